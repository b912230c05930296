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

/// <summary>The container's root filesystem.</summary>
public sealed record Root
{
    /// <summary>Absolute, or relative to the bundle directory.</summary>
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("readonly")] public bool? Readonly { get; set; }
}

public sealed record Mount
{
    [JsonPropertyName("destination")] public string Destination { get; set; } = "";
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("source")] public string? Source { get; set; }
    [JsonPropertyName("options")] public List<string>? Options { get; set; }
    [JsonPropertyName("uidMappings")] public List<LinuxIdMapping>? UidMappings { get; set; }
    [JsonPropertyName("gidMappings")] public List<LinuxIdMapping>? GidMappings { get; set; }
}

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

public sealed record Hook
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("args")] public List<string>? Args { get; set; }
    [JsonPropertyName("env")] public List<string>? Env { get; set; }
    /// <summary>Seconds; must be positive when present.</summary>
    [JsonPropertyName("timeout")] public int? Timeout { get; set; }
}
