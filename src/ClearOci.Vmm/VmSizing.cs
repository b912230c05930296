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
    /// containerd's CRI plugin (1.6.7 and later, with kubelet 1.23 and later) writes the pod's
    /// summed limits on its sandbox container: bytes of memory, CFS quota and period; "0" when the
    /// pod sets none. The pod's containers all run in the sandbox's VM, so it is sized for them.
    /// </summary>
    public const string SandboxMemoryAnnotation = "io.kubernetes.cri.sandbox-memory",
        SandboxCpuQuotaAnnotation = "io.kubernetes.cri.sandbox-cpu-quota",
        SandboxCpuPeriodAnnotation = "io.kubernetes.cri.sandbox-cpu-period";

    /// <summary>
    /// The VM for a container: sized from its own linux.resources, or from the pod's limits in
    /// its annotations where those ask for more (the container's own cgroup keeps its own limits).
    /// </summary>
    public static Size ForContainer(LinuxResources? own, IReadOnlyDictionary<string, string>? annotations, VmSettings defaults, int hostCpus, long hostMemoryMiB)
    {
        var size = From(own, defaults, hostCpus, hostMemoryMiB);
        if (PodLimits(annotations) is not { } pod) return size;
        var podSize = From(pod, defaults, hostCpus, hostMemoryMiB);
        return new Size(Math.Max(size.MemoryMiB, podSize.MemoryMiB), Math.Max(size.Vcpus, podSize.Vcpus));
    }

    /// <summary>
    /// The pod's limits from the sandbox annotations; null when there are none (or all are 0). A
    /// value that is not a number is an error: config.json is refused before anything starts.
    /// </summary>
    public static LinuxResources? PodLimits(IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null) return null;
        long memory = Number(annotations, SandboxMemoryAnnotation);
        long quota = Number(annotations, SandboxCpuQuotaAnnotation), period = Number(annotations, SandboxCpuPeriodAnnotation);
        bool cpu = quota > 0 && period > 0;
        if (memory <= 0 && !cpu) return null;
        return new LinuxResources
        {
            Memory = memory > 0 ? new LinuxMemory { Limit = memory } : null,
            Cpu = cpu ? new LinuxCpu { Quota = quota, Period = (ulong)period } : null,
        };
    }

    private static long Number(IReadOnlyDictionary<string, string> annotations, string key) =>
        !annotations.TryGetValue(key, out var text) ? 0
        : long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value
        : throw ClearOciException.Invalid($"annotation {key}: \"{text}\" is not a number");

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
