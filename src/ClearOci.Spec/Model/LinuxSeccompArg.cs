using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxSeccompArg
{
    [JsonPropertyName("index")] public uint Index { get; set; }
    [JsonPropertyName("value")] public ulong Value { get; set; }
    [JsonPropertyName("valueTwo")] public ulong? ValueTwo { get; set; }
    /// <summary>One of <see cref="SpecNames.SeccompOperators"/>.</summary>
    [JsonPropertyName("op")] public string Op { get; set; } = "";
}
