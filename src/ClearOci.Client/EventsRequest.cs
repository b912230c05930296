namespace ClearOci.Client;

/// <summary>Subscribes to the container's events: a first empty reply, then one per event, until it stops.</summary>
public sealed record EventsRequest : SupervisorRequest;
