using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>A device node to create in the container.</summary>
public sealed record LinuxDevice
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    /// <summary><c>c</c>, <c>b</c>, <c>u</c> or <c>p</c>.</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("major")] public long Major { get; set; }
    [JsonPropertyName("minor")] public long Minor { get; set; }
    [JsonPropertyName("fileMode")] public uint? FileMode { get; set; }
    [JsonPropertyName("uid")] public uint? Uid { get; set; }
    [JsonPropertyName("gid")] public uint? Gid { get; set; }
}
