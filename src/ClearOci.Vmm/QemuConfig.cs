namespace ClearOci.Vmm;

/// <summary>Everything the QEMU command line depends on. No I/O happens on it.</summary>
public sealed record QemuConfig
{
    public required string Name { get; init; }
    public string QemuBinary { get; init; } = "qemu-system-x86_64";
    public Accel Accel { get; init; } = Accel.Tcg;
    public GuestRoot Root { get; init; } = GuestRoot.NvdimmImage;
    public int Vcpus { get; init; } = 1;
    public int MemoryMiB { get; init; } = 128;
    public required string Kernel { get; init; }
    /// <summary>The read-only guest image (with its pfn info block), for <see cref="GuestRoot.NvdimmImage"/>.</summary>
    public string? Image { get; init; }
    public long ImageBytes { get; init; }
    /// <summary>The initramfs, for <see cref="GuestRoot.Initramfs"/>.</summary>
    public string? Initramfs { get; init; }
    /// <summary>virtio-fs shares: tag and the vhost-user socket of its virtiofsd.</summary>
    public IReadOnlyList<(string Tag, string Socket)> Shares { get; init; } = [];
    /// <summary>fd numbers (in QEMU) of the pre-connected sockets of each channel.</summary>
    public int ControlFd { get; init; } = 3;
    public int IoFd { get; init; } = 4;
    public int QmpFd { get; init; } = 5;
    /// <summary>virtio-net devices, each backed by a tap fd the runtime opened (in the container's network namespace).</summary>
    public IReadOnlyList<TapNic> Nics { get; init; } = [];
    /// <summary>When set, the agent channels use vsock instead of virtio-serial ports.</summary>
    public VsockChannel? Vsock { get; init; }
    /// <summary>How the guest finds the channels; needed unless <see cref="Bare"/>.</summary>
    public GuestChannelNames? ChannelNames { get; init; }
    /// <summary>Where the guest console goes; null discards it.</summary>
    public string? ConsoleLog { get; init; }
    /// <summary>Extra kernel arguments (after ClearOci's own).</summary>
    public IReadOnlyList<string> KernelArgs { get; init; } = [];
    /// <summary>Share guest pages with KSM (QEMU mem-merge).</summary>
    public bool MemMerge { get; init; } = true;
    /// <summary>No channels, no shares, no monitor: the agent powers off once ready (the benchmark floor).</summary>
    public bool Bare { get; init; }
    /// <summary>Under TCG: cap of the translation cache in MiB (0: QEMU's default).</summary>
    public int TcgCacheMiB { get; init; } = VmSettings.DefaultTcgCacheMiB;

    internal GuestChannelNames RequiredChannelNames =>
        ChannelNames ?? throw new ClearOciException(ErrorCode.Internal, "QEMU config lacks the channel names");
}
