namespace ClearOci.Protocol;

/// <summary>
/// Event: a DNS query a container sent to a relayed nameserver (<see cref="ConfigureNetwork.DnsRelay"/>),
/// for the host to ask that nameserver in the container's namespace on the host. <see cref="Data"/> is
/// the DNS message as sent over UDP (without TCP's length prefix, also when <see cref="Tcp"/>).
/// </summary>
public sealed record DnsQuery : Message
{
    /// <summary>The guest's number for this query, unique while the VM runs.</summary>
    public long Query { get; init; }
    public required string Server { get; init; }
    /// <summary>The container asked over TCP (a truncated UDP answer's retry): ask the same way.</summary>
    public bool Tcp { get; init; }
    public byte[] Data { get; init; } = [];

    public bool Equals(DnsQuery? other) => other is not null && base.Equals(other) && Query == other.Query && Server == other.Server
        && Tcp == other.Tcp && Data.AsSpan().SequenceEqual(other.Data);
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Query, Server, Data.Length);
}
