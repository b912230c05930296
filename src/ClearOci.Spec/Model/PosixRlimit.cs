using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record PosixRlimit
{
    /// <summary>An <c>RLIMIT_*</c> name (see <see cref="SpecNames.Rlimits"/>).</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("hard")] public ulong Hard { get; set; }
    [JsonPropertyName("soft")] public ulong Soft { get; set; }
}
