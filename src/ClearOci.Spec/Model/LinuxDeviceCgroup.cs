using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>A device cgroup rule.</summary>
public sealed record LinuxDeviceCgroup
{
    [JsonPropertyName("allow")] public bool Allow { get; set; }
    /// <summary><c>a</c>, <c>c</c> or <c>b</c>; absent means all.</summary>
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("major")] public long? Major { get; set; }
    [JsonPropertyName("minor")] public long? Minor { get; set; }
    /// <summary>Some of <c>r</c>, <c>w</c>, <c>m</c>.</summary>
    [JsonPropertyName("access")] public string? Access { get; set; }
}
