namespace ClearOci.Client;

/// <summary>One line the supervisor writes back; <see cref="Error"/> set means the request failed.</summary>
public sealed record SupervisorReply
{
    public WireError? Error { get; init; }
    /// <summary>ps: the host pids that stand for the container's processes.</summary>
    public List<int>? Pids { get; init; }
    public ClearOci.Protocol.ContainerStats? Stats { get; init; }
    /// <summary>exec and add: the second line, once the process ended.</summary>
    public int? ExitStatus { get; init; }
    /// <summary>events: one line per container event (runc's event type, e.g. "oom").</summary>
    public string? Event { get; init; }

    public static readonly SupervisorReply Ok = new();

    public static SupervisorReply Failed(Exception e) => new() { Error = WireError.From(e) };
}
