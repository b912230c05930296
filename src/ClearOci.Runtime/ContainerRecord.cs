using System.Text.Json.Serialization;
using ClearOci.Spec;

namespace ClearOci.Runtime;

public enum Status { Creating, Created, Running, Paused, Stopped }

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

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(SupervisorRequest))]
[JsonSerializable(typeof(SupervisorResponse))]
[JsonSerializable(typeof(List<int>))]
[JsonSerializable(typeof(List<ListEntry>))]
internal sealed partial class RuntimeJsonContext : JsonSerializerContext;

/// <summary>
/// The legal moves of the state machine, in one place. A user asking for an illegal move gets
/// InvalidState with runc's wording.
/// </summary>
public static class Transitions
{
    public static string Name(Status s) => s switch
    {
        Status.Creating => ContainerStatus.Creating,
        Status.Created => ContainerStatus.Created,
        Status.Running => ContainerStatus.Running,
        Status.Paused => ContainerStatus.Paused,
        _ => ContainerStatus.Stopped,
    };

    public static void CheckStart(Status s)
    {
        switch (s)
        {
            case Status.Created: return;
            case Status.Stopped: throw Invalid("cannot start a container that has stopped");
            case Status.Running: throw Invalid("cannot start an already running container");
            case Status.Paused: throw Invalid("cannot start a paused container");
            default: throw Invalid("cannot start a container that is still being created");
        }
    }

    public static void CheckKill(Status s)
    {
        if (s is Status.Created or Status.Running or Status.Paused) return;
        throw Invalid("container not running");
    }

    /// <summary>As runc: a created container can be paused too (resume makes it created again).</summary>
    public static void CheckPause(Status s)
    {
        if (s is Status.Running or Status.Created) return;
        throw Invalid(s == Status.Paused ? "container is already paused" : "container not running");
    }

    public static void CheckResume(Status s)
    {
        if (s == Status.Paused) return;
        throw Invalid("container not paused");
    }

    /// <summary>Without --force a stopped container may be deleted, and (as runc) a created one, whose process never ran.</summary>
    public static void CheckDelete(string id, Status s)
    {
        if (s is Status.Stopped or Status.Created) return;
        throw Invalid($"cannot delete container {id} that is not stopped: {Name(s)}");
    }

    private static ClearOciException Invalid(string message) => new(ErrorCode.InvalidState, message);
}
