using ClearOci.Client;
using ClearOci.Spec;

namespace ClearOci.Shim;

/// <summary>One task (container) this shim hosts; each runs in its own clearoci VM (a pod's in its sandbox's).</summary>
internal sealed class ShimContainer(string id, string bundle, IReadOnlyList<MountSpec> rootfs, Lifecycle runtime, IReadOnlyList<string> globalArgs, ShimProcess init)
{
    public string Id { get; } = id;
    public string Bundle { get; } = bundle;
    public IReadOnlyList<MountSpec> Rootfs { get; } = rootfs;
    /// <summary>ClearOci.Runtime in-process, on the task's clearoci --root.</summary>
    public Lifecycle Runtime { get; } = runtime;
    /// <summary>The global flags the processes Lifecycle spawns for it see (supervisor, exec relays): --root, --log...</summary>
    public IReadOnlyList<string> GlobalArgs { get; } = globalArgs;
    public ShimProcess Init { get; } = init;
    public Dictionary<string, ShimProcess> Execs { get; } = new();
    public bool Paused { get; set; }
    public int NextExec;
    /// <summary>Held across a start and the queueing of its event, and by exit handling: /tasks/start always precedes /tasks/exit.</summary>
    public SemaphoreSlim StartLock { get; } = new(1, 1);
    /// <summary>The in-process event subscription (Lifecycle.SubscribeEventsAsync): completes once subscribed.</summary>
    public Task EventsSubscribed { get; set; } = Task.CompletedTask;
    /// <summary>Completes when the subscription has ended (the container stopped): every OOM kill has been published.</summary>
    public Task EventsDone { get; set; } = Task.CompletedTask;
    /// <summary>Ends the subscription when the container is deleted or the shim goes.</summary>
    public CancellationTokenSource Gone { get; } = new();
}
