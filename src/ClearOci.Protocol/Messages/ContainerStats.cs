namespace ClearOci.Protocol;

public sealed record ContainerStats
{
    public ulong CpuUserNs { get; init; }
    public ulong CpuKernelNs { get; init; }
    public ulong MemoryUsageBytes { get; init; }
    public ulong MemoryLimitBytes { get; init; }
    public int Pids { get; init; }
}
