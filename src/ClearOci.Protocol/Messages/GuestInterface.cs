namespace ClearOci.Protocol;

/// <summary>One NIC. Addresses are CIDR ("10.88.0.5/16", "fd00::5/64").</summary>
public sealed record GuestInterface
{
    public required string Name { get; init; }
    public required string Mac { get; init; }
    public int Mtu { get; init; }
    public List<string> Addresses { get; init; } = [];
    public List<GuestRoute> Routes { get; init; } = [];

    public bool Equals(GuestInterface? other) => other is not null && Name == other.Name && Mac == other.Mac && Mtu == other.Mtu
        && Addresses.SequenceEqual(other.Addresses) && Routes.SequenceEqual(other.Routes);
    public override int GetHashCode() => HashCode.Combine(Name, Mac, Mtu);
}
