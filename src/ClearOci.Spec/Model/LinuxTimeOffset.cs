using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxTimeOffset
{
    [JsonPropertyName("secs")] public long? Secs { get; set; }
    [JsonPropertyName("nanosecs")] public uint? Nanosecs { get; set; }
}
