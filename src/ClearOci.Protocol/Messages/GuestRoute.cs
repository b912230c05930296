namespace ClearOci.Protocol;

/// <summary>A route through the interface: Destination is CIDR or "default"; no Gateway means on-link.</summary>
public sealed record GuestRoute(string Destination, string? Gateway);
