using System.Text.Json.Serialization;

namespace ClearOci.Client;

/// <summary>One row of `list --format json` (runc's fields).</summary>
public sealed record ListEntry
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; init; } = "1.2.0";
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("pid")] public int Pid { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("bundle")] public required string Bundle { get; init; }
    [JsonPropertyName("rootfs")] public string Rootfs { get; init; } = "";
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }
    [JsonPropertyName("owner")] public string Owner { get; init; } = "root";
}
