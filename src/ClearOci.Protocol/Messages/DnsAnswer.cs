namespace ClearOci.Protocol;

/// <summary>The nameserver's answer to <see cref="DnsQuery"/> <see cref="Query"/>; empty: none came (the guest drops the query).</summary>
public sealed record DnsAnswer : Message
{
    public long Query { get; init; }
    public byte[] Data { get; init; } = [];

    public bool Equals(DnsAnswer? other) => other is not null && base.Equals(other) && Query == other.Query && Data.AsSpan().SequenceEqual(other.Data);
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Query, Data.Length);
}
