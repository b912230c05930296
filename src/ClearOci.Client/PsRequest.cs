namespace ClearOci.Client;

public sealed record PsRequest : SupervisorRequest;
