namespace ClearOci.Client;

public sealed record StatsRequest : SupervisorRequest;
