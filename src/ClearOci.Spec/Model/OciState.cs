using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>The OCI state of a container: what <c>state</c> prints and what hooks read on stdin.</summary>
public sealed record OciState
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = "";
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    /// <summary>One of the <see cref="ContainerStatus"/> names.</summary>
    [JsonPropertyName("status")] public string Status { get; set; } = "";
    /// <summary>The container process as seen by the host; 0 (omitted) when there is none.</summary>
    [JsonPropertyName("pid")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Pid { get; set; }
    /// <summary>Absolute path of the bundle directory.</summary>
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
}
