using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>Source-generated (reflection-free, AOT-safe) JSON metadata for every OCI record.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciSpec))]
[JsonSerializable(typeof(OciState))]
[JsonSerializable(typeof(LinuxResources))]
[JsonSerializable(typeof(Process))]
public sealed partial class SpecJsonContext : JsonSerializerContext;
