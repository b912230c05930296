namespace ClearOci.Runtime;

/// <summary>
/// The phases of one boot: <paramref name="Total"/> is the host's time from spawning QEMU until the
/// agent's Hello arrived; the agent's stamps are the guest's CLOCK_BOOTTIME (ns since its kernel started).
/// </summary>
public sealed record BootTimes(TimeSpan Total, long AgentStartNs, long AgentReadyNs)
{
    /// <summary>Host time from spawning QEMU until the guest kernel's clock started (estimate).</summary>
    public TimeSpan QemuToKernel => Total - TimeSpan.FromTicks(AgentReadyNs / 100);
    public TimeSpan KernelToAgent => TimeSpan.FromTicks(AgentStartNs / 100);
    public TimeSpan AgentStartToReady => TimeSpan.FromTicks((AgentReadyNs - AgentStartNs) / 100);
}
