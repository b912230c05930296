using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxNamespace
{
    /// <summary>One of <see cref="SpecNames.Namespaces"/>.</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    /// <summary>Join this existing namespace instead of creating one.</summary>
    [JsonPropertyName("path")] public string? Path { get; set; }
}
