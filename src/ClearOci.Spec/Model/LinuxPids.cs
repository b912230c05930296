using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxPids
{
    /// <summary>Maximum number of tasks; 0 or -1 means no limit.</summary>
    [JsonPropertyName("limit")] public long? Limit { get; set; }
}
