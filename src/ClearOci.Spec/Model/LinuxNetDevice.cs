using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxNetDevice
{
    [JsonPropertyName("name")] public string? Name { get; set; }
}
