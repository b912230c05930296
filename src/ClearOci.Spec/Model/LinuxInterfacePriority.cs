using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxInterfacePriority
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("priority")] public uint Priority { get; set; }
}
