using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>
/// The whole OCI runtime-spec <c>config.json</c> of a bundle. Named OciSpec rather than Spec so that it
/// does not collide with the <c>ClearOci.Spec</c> namespace in code under other <c>ClearOci.*</c> namespaces.
/// </summary>
public sealed record OciSpec
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = "";
    [JsonPropertyName("process")] public Process? Process { get; set; }
    [JsonPropertyName("root")] public Root? Root { get; set; }
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("domainname")] public string? Domainname { get; set; }
    [JsonPropertyName("mounts")] public List<Mount>? Mounts { get; set; }
    [JsonPropertyName("hooks")] public Hooks? Hooks { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("linux")] public Linux? Linux { get; set; }

    /// <summary>
    /// Top-level fields this model does not know (for example <c>windows</c>, <c>vm</c> or a newer spec's
    /// additions). They are kept and written back unchanged; callers may warn about them.
    /// </summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}
