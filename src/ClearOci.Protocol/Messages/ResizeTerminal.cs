namespace ClearOci.Protocol;

/// <summary>A process's terminal changed size on the host.</summary>
public sealed record ResizeTerminal : Message
{
    public required string ContainerId { get; init; }
    public string ExecId { get; init; } = "";
    public ushort Rows { get; init; }
    public ushort Cols { get; init; }
}
