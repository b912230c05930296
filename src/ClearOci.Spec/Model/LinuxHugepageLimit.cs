using System.Text.Json.Serialization;

namespace ClearOci.Spec;

public sealed record LinuxHugepageLimit
{
    /// <summary>For example <c>2MB</c> or <c>1GB</c>.</summary>
    [JsonPropertyName("pageSize")] public string PageSize { get; set; } = "";
    [JsonPropertyName("limit")] public ulong Limit { get; set; }
}
