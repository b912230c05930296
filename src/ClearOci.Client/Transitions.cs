using ClearOci.Spec;

namespace ClearOci.Client;

/// <summary>
/// The container state machine, in one table: for each <see cref="Operation"/> and current
/// <see cref="Status"/>, the status it leads to, or the refusal (InvalidState, runc's wording).
/// The CLI asks it before it calls a supervisor (a stopped container has none), and the
/// supervisor asks it again under its lock before it acts: the same function both times.
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

    /// <summary>Throws unless <paramref name="op"/> is legal in <paramref name="s"/>.</summary>
    public static void Check(Operation op, Status s, string id = "") => Next(op, s, started: s == Status.Running, id);

    /// <summary>
    /// The status after <paramref name="op"/> in <paramref name="s"/> (the same status for an
    /// operation that moves nothing); throws if it is not legal. <paramref name="started"/>: the
    /// container's process was started, so resuming makes it running again, not created.
    /// </summary>
    public static Status Next(Operation op, Status s, bool started, string id = "")
    {
        if (Refusal(op, s, id) is { } message) throw new ClearOciException(ErrorCode.InvalidState, message);
        return op switch
        {
            Operation.Start => Status.Running,
            Operation.Pause => Status.Paused,
            Operation.Resume => started ? Status.Running : Status.Created,
            Operation.Created => Status.Created,
            Operation.Exited => Status.Stopped,
            Operation.Delete => Status.Stopped,
            _ => s,
        };
    }

    /// <summary>Why <paramref name="op"/> is refused in <paramref name="s"/>, or null if it is legal.</summary>
    public static string? Refusal(Operation op, Status s, string id = "") => (op, s) switch
    {
        (Operation.Start, Status.Created) => null,
        (Operation.Start, Status.Stopped) => "cannot start a container that has stopped",
        (Operation.Start, Status.Running) => "cannot start an already running container",
        (Operation.Start, Status.Paused) => "cannot start a paused container",
        (Operation.Start, _) => "cannot start a container that is still being created",

        // created, running or paused: there is a VM to signal, change or ask
        (Operation.Kill or Operation.Update or Operation.Stats or Operation.Events, Status.Created or Status.Running or Status.Paused) => null,
        (Operation.Kill or Operation.Update or Operation.Stats or Operation.Events, _) => "container not running",

        // As runc: a created container can be paused too (resume makes it created again).
        (Operation.Pause, Status.Created or Status.Running) => null,
        (Operation.Pause, Status.Paused) => "container is already paused",
        (Operation.Pause, _) => "container not running",

        (Operation.Resume, Status.Paused) => null,
        (Operation.Resume, _) => "container not paused",

        (Operation.Exec, Status.Created or Status.Running) => null,
        (Operation.Exec, Status.Paused) => "cannot exec in a paused container",
        (Operation.Exec, Status.Stopped) => "cannot exec in a stopped container",
        (Operation.Exec, _) => "cannot exec in a container that is still being created",

        // ps of a stopped container lists nothing, as runc's does.
        (Operation.Ps, _) => null,

        // Without --force a stopped container may be deleted, and (as runc) a created one, whose process never ran.
        (Operation.Delete, Status.Stopped or Status.Created) => null,
        (Operation.Delete, _) => $"cannot delete container {id} that is not stopped: {Name(s)}",

        (Operation.Created, Status.Creating) => null,
        (Operation.Created, _) => $"container {id} is not being created: {Name(s)}",

        (Operation.Exited, Status.Stopped) => $"container {id} has stopped already",
        (Operation.Exited, _) => null,

        _ => $"unknown operation {op}",
    };
}
