using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record ConsoleSize
{
    [JsonPropertyName("height")] public uint Height { get; set; }
    [JsonPropertyName("width")] public uint Width { get; set; }
}
