using System.Text.Json.Serialization;

namespace ClearOci.Seccomp;

/// <summary>A compiled filter: the <c>sock_filter</c> array as bytes and the seccomp(2) flags.</summary>
public sealed record SeccompFilter
{
    public required byte[] Program { get; init; }
    public uint Flags { get; init; }
    [JsonIgnore] public int Length => Program.Length / SockFilter.Size;
}
