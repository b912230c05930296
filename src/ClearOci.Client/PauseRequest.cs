namespace ClearOci.Client;

public sealed record PauseRequest : SupervisorRequest;
