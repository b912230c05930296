namespace ClearOci.Protocol;

/// <summary>Event: a process ended. Status is the shell form: exit code, or 128+N for signal N.</summary>
public sealed record ProcessExited : Message
{
    public required string ContainerId { get; init; }
    public string ExecId { get; init; } = "";
    public int Status { get; init; }
    public long ExitedNs { get; init; }
}
