namespace ClearOci.Protocol;

/// <summary>First message of the agent, once it is ready. Times are the guest's CLOCK_BOOTTIME in ns.</summary>
public sealed record Hello : Message
{
    public int Version { get; init; }
    public string KernelRelease { get; init; } = "";
    public long AgentStartNs { get; init; }
    public long AgentReadyNs { get; init; }
}
