using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record IoPriority
{
    [JsonPropertyName("class")] public string Class { get; set; } = "";
    [JsonPropertyName("priority")] public int? Priority { get; set; }
}
