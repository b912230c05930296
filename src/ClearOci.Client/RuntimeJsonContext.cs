using System.Text.Json.Serialization;

namespace ClearOci.Client;

/// <summary>Source-generated JSON for state.json, the supervisor protocol and the CLI's lists.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false, UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(SupervisorRequest))]
[JsonSerializable(typeof(SupervisorReply))]
[JsonSerializable(typeof(WireError))]
[JsonSerializable(typeof(List<int>))]
[JsonSerializable(typeof(List<ListEntry>))]
internal sealed partial class RuntimeJsonContext : JsonSerializerContext;
