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
