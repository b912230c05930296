using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>The container's root filesystem.</summary>
public sealed record Root
{
    /// <summary>Absolute, or relative to the bundle directory.</summary>
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("readonly")] public bool? Readonly { get; set; }
}
