namespace ClearOci.Vmm;

/// <summary>
/// Built-in defaults for every VM, overridable per host by the configuration file or environment
/// variables (see <see cref="HostConfig"/>; no file is needed): CLEAROCI_MEMORY_MIB, CLEAROCI_VCPUS,
/// CLEAROCI_GUEST_ROOT (image | initramfs), CLEAROCI_TCG_CACHE_MIB; also CLEAROCI_ACCEL (kvm | tcg, see <see cref="HostInfo"/>)
/// and CLEAROCI_ASSETS (see <see cref="GuestAssets"/>).
/// </summary>
public sealed record VmSettings
{
    public int MemoryMiB { get; init; } = 128;
    public int Vcpus { get; init; } = 1;
    /// <summary>null: the NVDIMM image when the assets have one, else the initramfs.</summary>
    public GuestRoot? Root { get; init; }
    /// <summary>Under TCG only: QEMU's translation cache (tb-size) in MiB, resident in full once Linux booted.</summary>
    public int TcgCacheMiB { get; init; } = DefaultTcgCacheMiB;

    /// <summary>32 MiB: halving it saves ~21 MiB per VM but slows boot and exec by 20-30 % (docs/PERFORMANCE.md).</summary>
    public const int DefaultTcgCacheMiB = 32;

    public static VmSettings Load() => From(HostConfig.Get);

    public static VmSettings From(Func<string, string?> env)
    {
        var s = new VmSettings();
        if (env("CLEAROCI_MEMORY_MIB") is { } mem) s = s with { MemoryMiB = Positive("CLEAROCI_MEMORY_MIB", mem, 32) };
        if (env("CLEAROCI_VCPUS") is { } cpus) s = s with { Vcpus = Positive("CLEAROCI_VCPUS", cpus, 1) };
        if (env("CLEAROCI_TCG_CACHE_MIB") is { } tb) s = s with { TcgCacheMiB = Positive("CLEAROCI_TCG_CACHE_MIB", tb, 1) };
        s = env("CLEAROCI_GUEST_ROOT") switch
        {
            null or "" => s,
            "image" => s with { Root = GuestRoot.NvdimmImage },
            "initramfs" => s with { Root = GuestRoot.Initramfs },
            var other => throw ClearOciException.Invalid($"CLEAROCI_GUEST_ROOT={other}: expected image or initramfs"),
        };
        return s;
    }

    private static int Positive(string name, string value, int min) =>
        int.TryParse(value, out int n) && n >= min ? n : throw ClearOciException.Invalid($"{name}={value}: expected a whole number >= {min}");
}
