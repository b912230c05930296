using System.Text.Json.Serialization;

namespace ClearOci.Client;

public sealed record ResumeRequest : SupervisorRequest;
