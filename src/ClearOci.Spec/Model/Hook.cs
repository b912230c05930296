using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record Hook
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("args")] public List<string>? Args { get; set; }
    [JsonPropertyName("env")] public List<string>? Env { get; set; }
    /// <summary>Seconds; must be positive when present.</summary>
    [JsonPropertyName("timeout")] public int? Timeout { get; set; }
}
