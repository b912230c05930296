using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>
/// Cgroup limits: <c>linux.resources</c> of <c>config.json</c>, and on its own the input of
/// <c>update --resources</c>.
/// </summary>
public sealed record LinuxResources
{
    [JsonPropertyName("devices")] public List<LinuxDeviceCgroup>? Devices { get; set; }
    [JsonPropertyName("memory")] public LinuxMemory? Memory { get; set; }
    [JsonPropertyName("cpu")] public LinuxCpu? Cpu { get; set; }
    [JsonPropertyName("pids")] public LinuxPids? Pids { get; set; }
    [JsonPropertyName("blockIO")] public LinuxBlockIo? BlockIo { get; set; }
    [JsonPropertyName("hugepageLimits")] public List<LinuxHugepageLimit>? HugepageLimits { get; set; }
    [JsonPropertyName("network")] public LinuxNetwork? Network { get; set; }
    [JsonPropertyName("rdma")] public Dictionary<string, LinuxRdma>? Rdma { get; set; }
    /// <summary>cgroup v2 files and values, written as they are.</summary>
    [JsonPropertyName("unified")] public Dictionary<string, string>? Unified { get; set; }
}
