
namespace ClearOci.Vmm;

/// <summary>
/// Builds QEMU's argv from a <see cref="QemuConfig"/>: pure, ordered, one small piece per device,
/// so tests compare the result with golden files. The same argv is valid with KVM and TCG.
/// </summary>
public static class QemuCommandLine
{
    public static IReadOnlyList<string> Build(QemuConfig c)
    {
        var a = new List<string> { c.QemuBinary, "-name", $"clearoci-{c.Name}" };
        Machine(c, a);
        Memory(c, a);
        a.AddRange(["-smp", c.Vcpus.ToString()]);
        a.AddRange(["-nodefaults", "-no-user-config", "-nographic", "-no-reboot"]);
        a.AddRange(["-kernel", c.Kernel, "-append", KernelCommandLine.Build(c)]);
        if (c.Root == GuestRoot.Initramfs) a.AddRange(["-initrd", Require(c.Initramfs, "initramfs")]);
        Console(c, a);
        // Entropy from the host: .NET blocks at start-up until the guest's crng is seeded.
        a.AddRange(["-object", "rng-random,id=rng,filename=/dev/urandom", "-device", Mmio(c) ? "virtio-rng-device,rng=rng" : "virtio-rng-pci,rng=rng"]);
        if (c.Bare) return a;
        Channels(c, a);
        Shares(c, a);
        Nics(c, a);
        a.AddRange(["-chardev", $"socket,id=qmp,fd={c.QmpFd}", "-mon", "chardev=qmp,mode=control"]);
        return a;
    }

    private static bool Mmio(QemuConfig c) => c.Root == GuestRoot.Initramfs;

    private static void Machine(QemuConfig c, List<string> a)
    {
        string accel = c.Accel == Accel.Kvm ? "kvm" : c.TcgCacheMiB > 0 ? $"tcg,tb-size={c.TcgCacheMiB}" : "tcg";
        string merge = c.MemMerge ? "on" : "off";
        if (Mmio(c))
        {
            // microvm: no PCI, no firmware tables beyond ACPI; under TCG the kernel needs the PIT and
            // PIC to calibrate its clock (under KVM they would only slow the boot).
            string legacy = c.Accel == Accel.Tcg ? ",pit=on,pic=on,rtc=on" : ",pit=off,pic=off,rtc=on";
            a.AddRange(["-machine", $"microvm,x-option-roms=off,isa-serial=on{legacy},mem-merge={merge},memory-backend=mem"]);
            a.AddRange(["-global", "virtio-mmio.force-legacy=false"]);
        }
        else
        {
            a.AddRange(["-machine", $"q35,nvdimm=on,smm=off,vmport=off,sata=off,usb=off,graphics=off,hpet=off,mem-merge={merge},memory-backend=mem"]);
        }
        a.AddRange(["-accel", accel]);
        a.AddRange(["-cpu", c.Accel == Accel.Kvm ? "host" : "max"]);
    }

    private static void Memory(QemuConfig c, List<string> a)
    {
        if (Mmio(c))
        {
            a.AddRange(["-m", $"{c.MemoryMiB}M"]);
        }
        else
        {
            long imageMiB = (c.ImageBytes + (1 << 20) - 1) >> 20;
            a.AddRange(["-m", $"{c.MemoryMiB}M,slots=1,maxmem={c.MemoryMiB + imageMiB}M"]);
        }
        // virtio-fs needs every guest page shared with virtiofsd.
        a.AddRange(["-object", $"memory-backend-memfd,id=mem,size={c.MemoryMiB}M,share=on"]);
        if (!Mmio(c))
        {
            a.AddRange(["-object", $"memory-backend-file,id=img,mem-path={Require(c.Image, "guest image")},size={c.ImageBytes},share=on,readonly=on"]);
            a.AddRange(["-device", "nvdimm,id=nv0,memdev=img,unarmed=on"]);
        }
    }

    private static void Console(QemuConfig c, List<string> a)
    {
        a.AddRange(["-chardev", c.ConsoleLog is null ? "null,id=con" : $"file,id=con,path={c.ConsoleLog}"]);
        a.AddRange(["-serial", "chardev:con"]);
    }

    private static void Channels(QemuConfig c, List<string> a)
    {
        if (c.Vsock is { } v)
        {
            a.AddRange(["-device", $"{(Mmio(c) ? "vhost-vsock-device" : "vhost-vsock-pci")},id=vsock,guest-cid={v.GuestCid},vhostfd={v.VhostFd}"]);
            return;
        }
        a.AddRange(["-device", Mmio(c) ? "virtio-serial-device,id=ser" : "virtio-serial-pci,id=ser"]);
        a.AddRange(["-chardev", $"socket,id=ctl,fd={c.ControlFd}", "-device", $"virtserialport,bus=ser.0,chardev=ctl,name={c.RequiredChannelNames.ControlPort}"]);
        a.AddRange(["-chardev", $"socket,id=io,fd={c.IoFd}", "-device", $"virtserialport,bus=ser.0,chardev=io,name={c.RequiredChannelNames.IoPort}"]);
    }

    private static void Shares(QemuConfig c, List<string> a)
    {
        for (int i = 0; i < c.Shares.Count; i++)
        {
            var (tag, socket) = c.Shares[i];
            a.AddRange(["-chardev", $"socket,id=fs{i},path={socket}"]);
            a.AddRange(["-device", $"{(Mmio(c) ? "vhost-user-fs-device" : "vhost-user-fs-pci")},chardev=fs{i},tag={tag},queue-size=1024"]);
        }
    }

    private static void Nics(QemuConfig c, List<string> a)
    {
        for (int i = 0; i < c.Nics.Count; i++)
        {
            var nic = c.Nics[i];
            // With fd=, QEMU finds IFF_VNET_HDR on the tap itself (vnet_hdr= is refused): the tap was
            // opened with it, so checksum and segmentation offloads pass through.
            a.AddRange(["-netdev", $"tap,id=net{i},fd={nic.Fd}"]);
            a.AddRange(["-device", $"{(Mmio(c) ? "virtio-net-device" : "virtio-net-pci")},netdev=net{i},mac={nic.Mac}"]);
        }
    }

    private static string Require(string? value, string what) =>
        value ?? throw new ClearOciException(ErrorCode.Internal, $"QEMU config lacks the {what}");
}
