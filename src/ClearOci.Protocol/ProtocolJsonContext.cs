using System.Text.Json.Serialization;

namespace ClearOci.Protocol;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(Message))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;
