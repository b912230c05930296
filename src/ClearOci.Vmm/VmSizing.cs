using ClearOci.Spec;

namespace ClearOci.Vmm;

/// <summary>
/// The VM's size from the container's linux.resources (pure). Memory: the limit plus
/// <see cref="OverheadMiB"/> for the guest kernel, the agent and the page cache of the shares, at
/// least the default (<see cref="VmSettings.MemoryMiB"/>), at most the host's RAM. vCPUs: the CPU
/// quota over the period rounded up (else the number of CPUs in cpu.cpus, else the default), at
/// least 1, at most the host's CPUs. Without limits the VM gets the defaults. The limits are also
/// applied inside the guest (its cgroup), so the container never gets more than it asked for.
/// </summary>
public static class VmSizing
{
    /// <summary>Guest memory beyond the container's limit (kernel, agent, caches). See docs/ARCHITECTURE.md.</summary>
    public const int OverheadMiB = 64;

    public readonly record struct Size(int MemoryMiB, int Vcpus);

    public static Size From(LinuxResources? resources, VmSettings defaults, int hostCpus, long hostMemoryMiB)
    {
        int memory = defaults.MemoryMiB;
        if (resources?.Memory?.Limit is long limit and > 0)
        {
            long wanted = (limit + (1 << 20) - 1) / (1 << 20) + OverheadMiB;
            memory = (int)Math.Clamp(wanted, defaults.MemoryMiB, Math.Max(defaults.MemoryMiB, Math.Min(hostMemoryMiB, int.MaxValue)));
        }
        int vcpus = defaults.Vcpus;
        var cpu = resources?.Cpu;
        if (cpu?.Quota is long quota and > 0 && cpu.Period is ulong period and > 0)
            vcpus = (int)Math.Min(int.MaxValue, ((ulong)quota + period - 1) / period);
        else if (CountCpus(cpu?.Cpus) is int listed and > 0)
            vcpus = listed;
        return new Size(memory, Math.Clamp(vcpus, 1, Math.Max(1, hostCpus)));
    }

    /// <summary>
    /// The VM for a container: sized from its own linux.resources, or from the pod's limits in
    /// its annotations (<see cref="PodAnnotations.Limits"/>; null: none) where those ask for more
    /// (the container's own cgroup keeps its own limits).
    /// </summary>
    public static Size ForContainer(LinuxResources? own, LinuxResources? pod, VmSettings defaults, int hostCpus, long hostMemoryMiB)
    {
        var size = From(own, defaults, hostCpus, hostMemoryMiB);
        if (pod is null) return size;
        var podSize = From(pod, defaults, hostCpus, hostMemoryMiB);
        return new Size(Math.Max(size.MemoryMiB, podSize.MemoryMiB), Math.Max(size.Vcpus, podSize.Vcpus));
    }

    /// <summary>The number of CPUs in a cpuset list ("0-3,6"); null when absent or malformed.</summary>
    public static int? CountCpus(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return null;
        var cpus = new HashSet<int>();
        foreach (var part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            if (range.Length > 2 || !int.TryParse(range[0], out int first) || first < 0) return null;
            int last = first;
            if (range.Length == 2 && (!int.TryParse(range[1], out last) || last < first || last - first > 4096)) return null;
            for (int c = first; c <= last; c++) cpus.Add(c);
        }
        return cpus.Count;
    }
}
