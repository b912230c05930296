using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxPersonality
{
    /// <summary><c>LINUX</c> or <c>LINUX32</c>.</summary>
    [JsonPropertyName("domain")] public string Domain { get; set; } = "";
    [JsonPropertyName("flags")] public List<string>? Flags { get; set; }
}
