using System.Text.Json.Serialization;

namespace ClearOci.Client;

/// <summary>
/// A request on a container's supervisor socket (<c>&lt;root&gt;/&lt;id&gt;/sock</c>): one type per
/// operation, one JSON line, tagged by "op" and carrying the protocol version, so a supervisor
/// started by another clearoci build refuses what it cannot read instead of misreading it. Each
/// gets <see cref="SupervisorReply"/> lines back (see <see cref="SupervisorClient"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(StartRequest), "start")]
[JsonDerivedType(typeof(KillRequest), "kill")]
[JsonDerivedType(typeof(PauseRequest), "pause")]
[JsonDerivedType(typeof(ResumeRequest), "resume")]
[JsonDerivedType(typeof(UpdateRequest), "update")]
[JsonDerivedType(typeof(StatsRequest), "stats")]
[JsonDerivedType(typeof(PsRequest), "ps")]
[JsonDerivedType(typeof(EventsRequest), "events")]
[JsonDerivedType(typeof(ExecRequest), "exec")]
[JsonDerivedType(typeof(AddRequest), "add")]
public abstract record SupervisorRequest
{
    /// <summary>Raised when the requests or replies change meaning.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>What the state machine is asked (<see cref="Transitions"/>); for add, the sandbox's container must be able to take a process, as for exec.</summary>
    [JsonIgnore]
    public Operation Operation => this switch
    {
        StartRequest => Operation.Start,
        KillRequest => Operation.Kill,
        PauseRequest => Operation.Pause,
        ResumeRequest => Operation.Resume,
        UpdateRequest => Operation.Update,
        StatsRequest => Operation.Stats,
        PsRequest => Operation.Ps,
        EventsRequest => Operation.Events,
        ExecRequest or AddRequest => Operation.Exec,
        _ => throw new ClearOciException(ErrorCode.Internal, $"no operation for {GetType().Name}"),
    };
}

/// <summary>Runs the created process (startContainer hooks, then the process, then poststart hooks).</summary>
public sealed record StartRequest : SupervisorRequest;

/// <summary>Signals the container's process, or with <see cref="ExecId"/> one of its exec'd processes.</summary>
public sealed record KillRequest : SupervisorRequest
{
    public int Signal { get; init; }
    public string? ExecId { get; init; }
}

public sealed record PauseRequest : SupervisorRequest;

public sealed record ResumeRequest : SupervisorRequest;

/// <summary>New linux.resources (JSON, already validated by the caller) for the container's cgroup in the guest.</summary>
public sealed record UpdateRequest : SupervisorRequest
{
    public required string ResourcesJson { get; init; }
}

public sealed record StatsRequest : SupervisorRequest;

public sealed record PsRequest : SupervisorRequest;

/// <summary>Subscribes to the container's events: a first empty reply, then one per event, until it stops.</summary>
public sealed record EventsRequest : SupervisorRequest;

/// <summary>
/// Runs another process in the container. Carries the caller's fds 0-2 (SCM_RIGHTS), which become
/// its stdio; replied to twice: once started, then with its exit status.
/// </summary>
public sealed record ExecRequest : SupervisorRequest
{
    public required string ExecId { get; init; }
    /// <summary>The OCI process JSON (validated by the caller).</summary>
    public required string ProcessJson { get; init; }
    /// <summary>With a terminal: where the pty master goes.</summary>
    public string? ConsoleSocket { get; init; }
}

/// <summary>
/// Sent to a pod sandbox's supervisor by a later container's relay: create container
/// <see cref="ContainerId"/> of <see cref="Bundle"/> in this VM with the relay's fds 0-2 (SCM_RIGHTS)
/// as its stdio. Replied to twice: once created, then with its exit status.
/// </summary>
public sealed record AddRequest : SupervisorRequest
{
    public required string ContainerId { get; init; }
    public required string Bundle { get; init; }
    public string? ConsoleSocket { get; init; }
}
