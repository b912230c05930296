using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>A seccomp filter in the OCI (libseccomp-named) form.</summary>
public sealed record LinuxSeccomp
{
    /// <summary>One of <see cref="SpecNames.SeccompActions"/>.</summary>
    [JsonPropertyName("defaultAction")] public string DefaultAction { get; set; } = "";
    [JsonPropertyName("defaultErrnoRet")] public uint? DefaultErrnoRet { get; set; }
    [JsonPropertyName("architectures")] public List<string>? Architectures { get; set; }
    [JsonPropertyName("flags")] public List<string>? Flags { get; set; }
    [JsonPropertyName("listenerPath")] public string? ListenerPath { get; set; }
    [JsonPropertyName("listenerMetadata")] public string? ListenerMetadata { get; set; }
    [JsonPropertyName("syscalls")] public List<LinuxSyscall>? Syscalls { get; set; }
}
