using System.Globalization;

namespace ClearOci.Spec;

/// <summary>
/// The Kubernetes annotations that containerd's CRI plugin writes on a pod's containers, and the
/// pod's limits read from them (pure).
/// </summary>
public static class PodAnnotations
{
    /// <summary>"sandbox" on the pod's sandbox container (pause), "container" on its other containers.</summary>
    public const string ContainerType = "io.kubernetes.cri.container-type";

    /// <summary>The id of the pod's sandbox container, on each of the pod's containers.</summary>
    public const string SandboxId = "io.kubernetes.cri.sandbox-id";

    /// <summary>
    /// containerd's CRI plugin (1.6.7 and later, with kubelet 1.23 and later) writes the pod's
    /// summed limits on its sandbox container: bytes of memory, CFS quota and period; "0" when the
    /// pod sets none. The pod's containers all run in the sandbox's VM, so it is sized for them.
    /// </summary>
    public const string SandboxMemory = "io.kubernetes.cri.sandbox-memory",
        SandboxCpuQuota = "io.kubernetes.cri.sandbox-cpu-quota",
        SandboxCpuPeriod = "io.kubernetes.cri.sandbox-cpu-period";

    /// <summary>
    /// The pod's limits from the sandbox annotations; null when there are none (or all are 0). A
    /// value that is not a number is an error: config.json is refused before anything starts.
    /// </summary>
    public static LinuxResources? Limits(IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null) return null;
        long memory = Number(annotations, SandboxMemory);
        long quota = Number(annotations, SandboxCpuQuota), period = Number(annotations, SandboxCpuPeriod);
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
        : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value
        : throw ClearOciException.Invalid($"annotation {key}: \"{text}\" is not a number");
}
