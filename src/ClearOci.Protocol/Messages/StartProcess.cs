namespace ClearOci.Protocol;

public sealed record StartProcess : Message
{
    public required string ContainerId { get; init; }
    public string ExecId { get; init; } = "";
}
