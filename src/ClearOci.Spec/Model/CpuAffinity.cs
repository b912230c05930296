using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record CpuAffinity
{
    [JsonPropertyName("initial")] public string? Initial { get; set; }
    [JsonPropertyName("final")] public string? Final { get; set; }
}
