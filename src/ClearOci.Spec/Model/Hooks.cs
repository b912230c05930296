using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>The lifecycle hooks, each list run in order.</summary>
public sealed record Hooks
{
    /// <summary>Deprecated by the spec in favour of createRuntime, still emitted by Docker.</summary>
    [JsonPropertyName("prestart")] public List<Hook>? Prestart { get; set; }
    [JsonPropertyName("createRuntime")] public List<Hook>? CreateRuntime { get; set; }
    [JsonPropertyName("createContainer")] public List<Hook>? CreateContainer { get; set; }
    [JsonPropertyName("startContainer")] public List<Hook>? StartContainer { get; set; }
    [JsonPropertyName("poststart")] public List<Hook>? Poststart { get; set; }
    [JsonPropertyName("poststop")] public List<Hook>? Poststop { get; set; }
}
