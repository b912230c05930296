namespace ClearOci.Client;

public sealed record ResumeRequest : SupervisorRequest;
