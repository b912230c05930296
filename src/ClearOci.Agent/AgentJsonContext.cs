using System.Text.Json.Serialization;

namespace ClearOci.Agent;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InitPlan))]
internal sealed partial class AgentJsonContext : JsonSerializerContext;
