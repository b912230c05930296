namespace ClearOci.Vmm;

/// <summary>The guest kernel's command line (pure).</summary>
public static class KernelCommandLine
{
    public static string Build(QemuConfig c)
    {
        var k = new List<string> { "console=ttyS0", "quiet", "panic=-1", "reboot=t", "random.trust_cpu=on", "nokaslr", "8250.nr_uarts=1" };
        if (c.Root == GuestRoot.NvdimmImage)
            k.AddRange(["root=/dev/pmem0", "rootfstype=ext4", "rootflags=dax", "ro", "init=/init"]);
        else
            k.Add("rdinit=/init");
        if (c.Bare) k.Add("clearoci.bare=1");
        else if (c.Vsock is { } v) k.Add($"{c.RequiredChannelNames.VsockKernelArg}={v.ControlPort},{v.IoPort}");
        k.AddRange(c.KernelArgs);
        return string.Join(' ', k);
    }
}
