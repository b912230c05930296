using System.Collections.Concurrent;
using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>
/// One VM per pod. A config whose annotations say <c>io.kubernetes.cri.container-type=container</c>
/// and whose <c>io.kubernetes.cri.sandbox-id</c> names a live container of the same --root (the
/// pod's sandbox, e.g. pause) is created in that container's VM: its `supervise` process becomes a
/// relay that hands its stdio to the sandbox's supervisor (request "add") and exits with the
/// container's status; the sandbox's supervisor serves the container's verbs on the container's own
/// socket. When the sandbox's container exits, the pod's other containers are killed and the VM ends.
/// </summary>
internal sealed class PodSandbox(StateStore store, string sandboxId, ContainerSandbox sandbox)
{
    public const string ContainerTypeAnnotation = PodAnnotations.ContainerType;
    public const string SandboxIdAnnotation = PodAnnotations.SandboxId;
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(10);
    /// <summary>How long a relay waits for the sandbox's supervisor to create its container (a rootfs share and a guest create under TCG).</summary>
    private static readonly TimeSpan CreateTimeout = TimeSpan.FromMinutes(2);
    private readonly ConcurrentDictionary<string, (ContainerSandbox Sandbox, Task Done)> _members = new();
    private bool _stopping;

    /// <summary>The id of the live sandbox container whose VM container <paramref name="id"/> belongs in, or null (a VM of its own).</summary>
    public static string? SandboxOf(StateStore store, string id, OciSpec spec)
    {
        var annotations = spec.Annotations;
        if (annotations is null
            || !annotations.TryGetValue(ContainerTypeAnnotation, out var type) || type != "container"
            || !annotations.TryGetValue(SandboxIdAnnotation, out var sandboxId) || sandboxId == id
            || !ContainerId.IsValid(sandboxId) || !store.Exists(sandboxId))
            return null;
        try
        {
            var r = store.Read(sandboxId);
            var status = StateStore.Effective(r);
            // The sandbox's own socket: only a sandbox that boots its own VM hosts others.
            bool hosts = status is Status.Created or Status.Running && r.Annotations?.GetValueOrDefault(ContainerTypeAnnotation) != "container";
            return hosts ? sandboxId : null;
        }
        catch (ClearOciException) { return null; }
    }

    /// <summary>
    /// `supervise` for a pod's later container: records this process as the container's pid, asks
    /// the sandbox's supervisor to add the container with this process's fds 0-2, reports 'R' on
    /// <paramref name="readyFd"/> once created, and returns the container's exit status.
    /// </summary>
    public static int RunMember(StateStore store, string id, string bundle, OciSpec spec, string sandboxId, int readyFd, string? consoleSocket)
    {
        bool ready = false;
        try
        {
            int pid = Environment.ProcessId;
            var record = store.Update(id, r => r with { SupervisorPid = pid, SupervisorStartTime = ProcessIdentity.StartTime(pid) });
            var hooks = spec.Hooks;
            HookRunner.Run("prestart", hooks?.Prestart, record.ToOciState(Status.Creating));
            HookRunner.Run("createRuntime", hooks?.CreateRuntime, record.ToOciState(Status.Creating));
            return SupervisorClient.RunProcess(store.SocketPath(sandboxId),
                new AddRequest { ContainerId = id, Bundle = bundle, ConsoleSocket = consoleSocket }, [0, 1, 2],
                () =>
                {
                    ready = true;
                    ReadyPipe.Ready(readyFd);
                }, CreateTimeout);
        }
        catch (Exception e)
        {
            DebugLog.Write($"pod container {id}: {e}");
            if (!ready)
            {
                ReadyPipe.Fail(readyFd, e);
                return 1;
            }
            // The sandbox's supervisor went away (the VM with it): the container is gone.
            try { store.Update(id, r => r with { Status = Status.Stopped, ExitStatus = 137 }); } catch (Exception) { }
            return 137;
        }
    }

    /// <summary>
    /// "add": creates the container in this VM with <paramref name="fds"/> as its stdio, serves its
    /// verbs on its socket, replies once it is created and again with its exit status. If the relay
    /// goes away first (killed), so does the container.
    /// </summary>
    public async Task AddAsync(AddRequest request, int[] fds, Stream reply)
    {
        if (fds.Length != 3)
        {
            foreach (int fd in fds) Libc.close(fd);
            throw ClearOciException.Invalid("add needs the caller's three stdio fds");
        }
        var input = new RawFdStream(fds[0], canRead: true, canWrite: false);
        var output = new RawFdStream(fds[1], canRead: false, canWrite: true);
        var error = new RawFdStream(fds[2], canRead: false, canWrite: true);
        try
        {
            await AddAsync(request, input, output, error, reply).ConfigureAwait(false);
        }
        finally
        {
            output.Dispose();
            error.Dispose();
            input.Dispose();
        }
    }

    private async Task AddAsync(AddRequest request, Stream input, Stream output, Stream error, Stream reply)
    {
        string id = request.ContainerId;
        ContainerId.Validate(id);
        var record = store.Read(id);
        if (record.Status != Status.Creating || SandboxOfRecord(record) != sandboxId)
            throw new ClearOciException(ErrorCode.InvalidState, $"container {id} is not being created in pod {sandboxId}");
        var done = new TaskCompletionSource();
        lock (_members)
        {
            if (_stopping) throw new ClearOciException(ErrorCode.InvalidState, $"the pod's sandbox {sandboxId} has stopped");
            if (!_members.TryAdd(id, (null!, done.Task))) throw new ClearOciException(ErrorCode.AlreadyExists, $"container {id} is in the pod already");
        }
        ContainerSandbox? member = null;
        var replied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            member = await ContainerSandbox.JoinAsync(sandbox, id, request.Bundle, new Stdio(input, output, error), request.ConsoleSocket).ConfigureAwait(false);
            _members[id] = (member, done.Task);
            int status = await Supervisor.HostAsync(store, id, member, member.Spec.Hooks, input, record.SupervisorPid, pod: null,
                ready: () => replied.TrySetResult(), abandoned: RelayGoneAsync(replied.Task, reply)).ConfigureAwait(false);
            member = null; // disposed by its host
            await SupervisorSocket.ReplyAsync(reply, new SupervisorReply { ExitStatus = status }).ConfigureAwait(false);
        }
        finally
        {
            replied.TrySetCanceled(); // never created: nothing to wait for
            if (member != null) await EndAsync(member).ConfigureAwait(false);
            _members.TryRemove(id, out _);
            done.TrySetResult();
        }
    }

    /// <summary>Once the container is created: replies so, then completes when the relay closes the connection (it exited, or was killed).</summary>
    private static async Task RelayGoneAsync(Task created, Stream reply)
    {
        try { await created.ConfigureAwait(false); }
        catch (OperationCanceledException) { return; }
        await SupervisorSocket.ReplyAsync(reply, SupervisorReply.Ok).ConfigureAwait(false);
        byte[] buffer = new byte[64];
        try { while (await reply.ReadAsync(buffer).ConfigureAwait(false) > 0) { } }
        catch (Exception) { }
    }

    private static string? SandboxOfRecord(ContainerRecord r) => r.Annotations?.GetValueOrDefault(SandboxIdAnnotation);

    /// <summary>A member whose creation failed after the guest had it: killed, its binds out of the share.</summary>
    private static async Task EndAsync(ContainerSandbox member)
    {
        try { await member.SignalAsync(9).WaitAsync(StopDeadline).ConfigureAwait(false); } catch (Exception) { }
        await Task.WhenAny(member.Exited, Task.Delay(StopDeadline)).ConfigureAwait(false);
        await member.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The sandbox's container exited: the pod's other containers are killed (bounded wait) before the VM powers off.</summary>
    public async Task StopAllAsync()
    {
        List<(ContainerSandbox Sandbox, Task Done)> members;
        lock (_members)
        {
            _stopping = true;
            members = _members.Values.ToList();
        }
        foreach (var (member, _) in members)
            if (member != null)
                try { await member.SignalAsync(9).WaitAsync(StopDeadline).ConfigureAwait(false); } catch (Exception) { }
        await Task.WhenAny(Task.WhenAll(members.Select(m => m.Done)), Task.Delay(StopDeadline)).ConfigureAwait(false);
    }
}
