using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxIntelRdt
{
    [JsonPropertyName("closID")] public string? ClosId { get; set; }
    [JsonPropertyName("l3CacheSchema")] public string? L3CacheSchema { get; set; }
    [JsonPropertyName("memBwSchema")] public string? MemBwSchema { get; set; }
    [JsonPropertyName("schemata")] public List<string>? Schemata { get; set; }
    [JsonPropertyName("enableCMT")] public bool? EnableCmt { get; set; }
    [JsonPropertyName("enableMBM")] public bool? EnableMbm { get; set; }
}
