using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Vmm;

/// <summary>What a VM needs to start: its name, private directory, assets and shares.</summary>
public sealed record VmOptions
{
    public required string Name { get; init; }
    /// <summary>A private directory for sockets and logs; it must exist and is not removed here.</summary>
    public required string RuntimeDir { get; init; }
    public required GuestAssets Assets { get; init; }
    public required HostInfo Host { get; init; }
    public IReadOnlyList<SharedDirectory> Shares { get; init; } = [];
    /// <summary>Open tap fds (the caller's, not closed here) and the MACs of their guest NICs.</summary>
    public IReadOnlyList<(int Fd, string Mac)> Nics { get; init; } = [];
    public int MemoryMiB { get; init; } = 128;
    public int Vcpus { get; init; } = 1;
    public GuestRoot? Root { get; init; }
    public int TcgCacheMiB { get; init; } = VmSettings.DefaultTcgCacheMiB;
    /// <summary>How the guest finds its channels (the agent protocol's names).</summary>
    public GuestChannelNames? ChannelNames { get; init; }
}
