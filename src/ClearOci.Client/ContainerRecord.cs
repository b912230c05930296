using ClearOci.Spec;

namespace ClearOci.Client;

/// <summary>What `<root>/<id>/state.json` holds.</summary>
public sealed record ContainerRecord
{
    public required string Id { get; init; }
    public required string Bundle { get; init; }
    public Status Status { get; init; }
    /// <summary>The supervisor: the pid engines wait on, and its start time (a reused pid never passes for it).</summary>
    public int SupervisorPid { get; init; }
    public ulong SupervisorStartTime { get; init; }
    public int ExitStatus { get; init; }
    public DateTimeOffset Created { get; init; }
    public Dictionary<string, string>? Annotations { get; init; }

    public OciState ToOciState(Status effective) => new()
    {
        OciVersion = "1.2.0",
        Id = Id,
        Status = Transitions.Name(effective),
        Pid = effective is Status.Stopped ? 0 : SupervisorPid,
        Bundle = Bundle,
        Annotations = Annotations,
    };
}
