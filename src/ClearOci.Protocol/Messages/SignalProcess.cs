namespace ClearOci.Protocol;

public sealed record SignalProcess : Message
{
    public required string ContainerId { get; init; }
    public string ExecId { get; init; } = "";
    public int Signal { get; init; }
}
