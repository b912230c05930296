namespace ClearOci.Protocol;

/// <summary>
/// The guest's network, as the container's network namespace on the host has it: each interface
/// (found in the guest by its MAC) gets its host name, MTU, addresses and routes; lo comes up.
/// The container uses the guest's own network namespace. Sent once, before the container is created.
/// </summary>
public sealed record ConfigureNetwork : Message
{
    public List<GuestInterface> Interfaces { get; init; } = [];

    /// <summary>
    /// Loopback nameservers of the container's resolv.conf ("127.0.0.11", docker's embedded DNS):
    /// they listen in the namespace on the host, which the guest's own lo cannot reach. The agent
    /// serves each on the guest's lo (port 53, UDP and TCP) and relays the queries to the host
    /// (<see cref="DnsQuery"/>).
    /// </summary>
    public List<string> DnsRelay { get; init; } = [];

    // Value equality over the lists' items, as for every other message.
    public bool Equals(ConfigureNetwork? other) => other is not null && base.Equals(other) && Interfaces.SequenceEqual(other.Interfaces)
        && DnsRelay.SequenceEqual(other.DnsRelay);
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Interfaces.Count, DnsRelay.Count);
}
