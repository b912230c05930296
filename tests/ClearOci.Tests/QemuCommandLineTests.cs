using ClearOci.Client;
using ClearOci.Runtime;
using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Tests;

/// <summary>
/// QemuCommandLine.Build against golden files in spec-fixtures/qemu (one argument per line), plus
/// checks of the properties that matter, so a regenerated golden cannot silently lose them.
/// Regenerate with: UPDATE_GOLDEN=1 dotnet test tests/ClearOci.Tests --filter QemuCommandLineTests
/// </summary>
public class QemuCommandLineTests
{
    private const string Dir = "/run/clearoci/golden";
    private const string Assets = "/usr/share/clearoci/current";

    private static readonly QemuConfig Q35Tcg = new()
    {
        Name = "golden",
        QemuBinary = "/usr/bin/qemu-system-x86_64",
        Accel = Accel.Tcg,
        Root = GuestRoot.NvdimmImage,
        Kernel = $"{Assets}/vmlinux",
        Image = $"{Assets}/clearoci.img",
        ImageBytes = 12 << 20,
        ConsoleLog = $"{Dir}/console.log",
        Shares = [("rootfs", $"{Dir}/fs-rootfs.sock")],
        ChannelNames = GuestLink.ChannelNames,
    };

    private static readonly QemuConfig MicrovmTcg = Q35Tcg with
    {
        Root = GuestRoot.Initramfs,
        Image = null,
        ImageBytes = 0,
        Initramfs = $"{Assets}/initramfs.cpio.gz",
    };

    public static readonly IReadOnlyDictionary<string, QemuConfig> Configs = new Dictionary<string, QemuConfig>
    {
        ["q35-nvdimm-tcg"] = Q35Tcg,
        ["q35-nvdimm-kvm"] = Q35Tcg with { Accel = Accel.Kvm },
        ["microvm-initramfs-tcg"] = MicrovmTcg,
        ["microvm-initramfs-kvm"] = MicrovmTcg with { Accel = Accel.Kvm },
        ["q35-two-virtiofs-shares"] = Q35Tcg with { Shares = [("rootfs", $"{Dir}/fs-rootfs.sock"), ("vol1", $"{Dir}/fs-vol1.sock")] },
        ["microvm-two-virtiofs-shares"] = MicrovmTcg with { Shares = [("rootfs", $"{Dir}/fs-rootfs.sock"), ("vol1", $"{Dir}/fs-vol1.sock")] },
        ["q35-no-console-log"] = Q35Tcg with { ConsoleLog = null },
        ["q35-tuned"] = Q35Tcg with { Vcpus = 2, MemoryMiB = 512, MemMerge = false, TcgCacheMiB = 0, KernelArgs = ["loglevel=7", "debug"] },
        ["q35-bare-tcg"] = Q35Tcg with { Bare = true, Shares = [] },
        ["q35-vsock-kvm"] = Q35Tcg with { Accel = Accel.Kvm, Vsock = new VsockChannel(VhostFd: 6, GuestCid: 1234, ControlPort: 1024, IoPort: 1025) },
        ["q35-two-nics"] = Q35Tcg with { Nics = [new TapNic(7, "02:42:ac:11:00:02"), new TapNic(8, "0a:58:0a:58:00:05")] },
        ["microvm-one-nic"] = MicrovmTcg with { Nics = [new TapNic(7, "02:42:ac:11:00:02")] },
        ["microvm-vsock-tcg"] = MicrovmTcg with { Vsock = new VsockChannel(VhostFd: 6, GuestCid: 1234, ControlPort: 1024, IoPort: 1025) },
    };

    private static IEnumerable<TestCaseData> Cases() =>
        Configs.Keys.Order(StringComparer.Ordinal).Select(name => new TestCaseData(name).SetArgDisplayNames(name));

    private static IReadOnlyList<string> Argv(string name) => QemuCommandLine.Build(Configs[name]);

    [TestCaseSource(nameof(Cases))]
    public void MatchesGoldenFile(string name)
    {
        var argv = Argv(name);
        Assert.That(argv.Where(a => a.Contains('\n')), Is.Empty, "an argument with a newline cannot be stored one per line");
        string actual = string.Join("\n", argv) + "\n";
        string path = Path.Combine(Repo.QemuGoldens, name + ".argv");
        if (Repo.UpdateGoldens)
        {
            Directory.CreateDirectory(Repo.QemuGoldens);
            File.WriteAllText(path, actual);
            TestContext.Out.WriteLine($"wrote {path}");
            return;
        }
        Assert.That(File.Exists(path), Is.True, $"{path} is missing; create it with UPDATE_GOLDEN=1 and review it");
        string[] expected = File.ReadAllText(path).Split('\n');
        string[] got = actual.Split('\n');
        for (int i = 0; i < Math.Min(expected.Length, got.Length); i++)
            Assert.That(got[i], Is.EqualTo(expected[i]), $"{name}.argv line {i + 1} differs (UPDATE_GOLDEN=1 rewrites the goldens)");
        Assert.That(got, Has.Length.EqualTo(expected.Length), $"{name}.argv: different number of lines");
    }

    /// <summary>The value after the first occurrence of <paramref name="flag"/>.</summary>
    private static string After(IReadOnlyList<string> argv, string flag)
    {
        int i = argv.ToList().IndexOf(flag);
        Assert.That(i, Is.GreaterThanOrEqualTo(0).And.LessThan(argv.Count - 1), $"{flag} missing");
        return argv[i + 1];
    }

    private static IEnumerable<string> AllAfter(IReadOnlyList<string> argv, string flag) =>
        argv.Select((a, i) => (a, i)).Where(p => p.a == flag && p.i + 1 < argv.Count).Select(p => argv[p.i + 1]);

    [TestCaseSource(nameof(Cases))]
    public void StartsWithTheBinaryAndNamesTheVm(string name)
    {
        var argv = Argv(name);
        Assert.That(argv[0], Is.EqualTo("/usr/bin/qemu-system-x86_64"));
        Assert.That(After(argv, "-name"), Is.EqualTo("clearoci-golden"));
        Assert.That(argv, Does.Contain("-nodefaults").And.Contain("-no-user-config").And.Contain("-nographic").And.Contain("-no-reboot"));
        Assert.That(After(argv, "-kernel"), Is.EqualTo($"{Assets}/vmlinux"));
        Assert.That(After(argv, "-append"), Is.EqualTo(KernelCommandLine.Build(Configs[name])));
    }

    [Test]
    public void EachNicIsAVirtioNetOnItsTapFdWithTheGivenMac()
    {
        var argv = Argv("q35-two-nics");
        Assert.That(AllAfter(argv, "-netdev"), Is.EqualTo(new[] { "tap,id=net0,fd=7", "tap,id=net1,fd=8" }));
        Assert.That(AllAfter(argv, "-device").Where(d => d.StartsWith("virtio-net", StringComparison.Ordinal)),
            Is.EqualTo(new[] { "virtio-net-pci,netdev=net0,mac=02:42:ac:11:00:02", "virtio-net-pci,netdev=net1,mac=0a:58:0a:58:00:05" }));
        Assert.That(AllAfter(Argv("microvm-one-nic"), "-device"), Does.Contain("virtio-net-device,netdev=net0,mac=02:42:ac:11:00:02"), "no PCI on microvm");
        Assert.That(AllAfter(Argv("q35-nvdimm-tcg"), "-netdev"), Is.Empty, "no NIC unless asked: QEMU's default user network never appears");
    }

    [TestCase("q35-nvdimm-kvm")]
    [TestCase("microvm-initramfs-kvm")]
    [TestCase("q35-vsock-kvm")]
    public void KvmUsesTheHostCpu(string name)
    {
        var argv = Argv(name);
        Assert.That(After(argv, "-accel"), Is.EqualTo("kvm"));
        Assert.That(After(argv, "-cpu"), Is.EqualTo("host"));
    }

    [TestCase("q35-nvdimm-tcg")]
    [TestCase("microvm-initramfs-tcg")]
    public void TcgEmulatesWithACappedTranslationCache(string name)
    {
        var argv = Argv(name);
        Assert.That(After(argv, "-accel"), Is.EqualTo("tcg,tb-size=32"));
        Assert.That(After(argv, "-cpu"), Is.EqualTo("max"));
    }

    [Test]
    public void TcgWithoutACacheCapUsesQemusDefault() =>
        Assert.That(After(Argv("q35-tuned"), "-accel"), Is.EqualTo("tcg"));

    [Test]
    public void LegacyTimersOnlyForMicrovmUnderTcg()
    {
        Assert.That(After(Argv("microvm-initramfs-tcg"), "-machine"), Does.StartWith("microvm,").And.Contain("pit=on,pic=on,rtc=on"));
        Assert.That(After(Argv("microvm-initramfs-kvm"), "-machine"), Does.StartWith("microvm,").And.Contain("pit=off,pic=off"));
        foreach (var name in Configs.Keys.Where(n => n.StartsWith("q35", StringComparison.Ordinal)))
            Assert.That(After(Argv(name), "-machine"), Does.StartWith("q35,").And.Not.Contain("pit="), name);
    }

    [Test]
    public void NvdimmOnlyForQ35()
    {
        foreach (var (name, config) in Configs)
        {
            var argv = Argv(name);
            string machine = After(argv, "-machine");
            if (config.Root == GuestRoot.NvdimmImage)
            {
                Assert.That(machine, Does.Contain("nvdimm=on"), name);
                Assert.That(AllAfter(argv, "-object"), Does.Contain($"memory-backend-file,id=img,mem-path={Assets}/clearoci.img,size={12 << 20},share=on,readonly=on"), name);
                Assert.That(AllAfter(argv, "-device"), Does.Contain("nvdimm,id=nv0,memdev=img,unarmed=on"), name);
                Assert.That(argv, Does.Not.Contain("-initrd"), name);
                Assert.That(After(argv, "-m"), Is.EqualTo($"{config.MemoryMiB}M,slots=1,maxmem={config.MemoryMiB + 12}M"), name);
            }
            else
            {
                Assert.That(argv.Where(a => a.Contains("nvdimm")), Is.Empty, name);
                Assert.That(After(argv, "-initrd"), Is.EqualTo($"{Assets}/initramfs.cpio.gz"), name);
                Assert.That(After(argv, "-m"), Is.EqualTo($"{config.MemoryMiB}M"), name);
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void GuestRamIsASharedMemfd(string name)
    {
        var argv = Argv(name);
        Assert.That(AllAfter(argv, "-object"), Does.Contain($"memory-backend-memfd,id=mem,size={Configs[name].MemoryMiB}M,share=on"));
        Assert.That(After(argv, "-machine"), Does.Contain("memory-backend=mem"));
    }

    [Test]
    public void MemMergeFollowsTheConfig()
    {
        Assert.That(After(Argv("q35-nvdimm-tcg"), "-machine"), Does.Contain("mem-merge=on"));
        Assert.That(After(Argv("q35-tuned"), "-machine"), Does.Contain("mem-merge=off"));
        Assert.That(After(Argv("q35-tuned"), "-smp"), Is.EqualTo("2"));
    }

    [Test]
    public void ConsoleGoesToTheLogFileOrNowhere()
    {
        Assert.That(AllAfter(Argv("q35-nvdimm-tcg"), "-chardev"), Does.Contain($"file,id=con,path={Dir}/console.log"));
        var none = Argv("q35-no-console-log");
        Assert.That(AllAfter(none, "-chardev"), Does.Contain("null,id=con"));
        Assert.That(none.Where(a => a.Contains("console.log")), Is.Empty);
        Assert.That(After(none, "-serial"), Is.EqualTo("chardev:con"));
    }

    [TestCase("q35-two-virtiofs-shares", "vhost-user-fs-pci")]
    [TestCase("microvm-two-virtiofs-shares", "vhost-user-fs-device")]
    public void EachShareGetsAVhostUserFsDevice(string name, string device)
    {
        var argv = Argv(name);
        var chardevs = AllAfter(argv, "-chardev").ToList();
        var devices = AllAfter(argv, "-device").ToList();
        Assert.That(chardevs, Does.Contain($"socket,id=fs0,path={Dir}/fs-rootfs.sock"));
        Assert.That(chardevs, Does.Contain($"socket,id=fs1,path={Dir}/fs-vol1.sock"));
        Assert.That(devices, Does.Contain($"{device},chardev=fs0,tag=rootfs,queue-size=1024"));
        Assert.That(devices, Does.Contain($"{device},chardev=fs1,tag=vol1,queue-size=1024"));
    }

    [TestCaseSource(nameof(Cases))]
    public void AgentChannelsAndMonitorUsePreConnectedFds(string name)
    {
        var argv = Argv(name);
        var chardevs = AllAfter(argv, "-chardev").ToList();
        if (Configs[name].Bare)
        {
            Assert.That(chardevs.Where(c => c.StartsWith("socket", StringComparison.Ordinal)), Is.Empty, "a bare boot has no channels");
            Assert.That(argv, Does.Not.Contain("-mon"));
            return;
        }
        Assert.That(chardevs, Does.Contain("socket,id=qmp,fd=5"));
        Assert.That(After(argv, "-mon"), Is.EqualTo("chardev=qmp,mode=control"));
        var devices = AllAfter(argv, "-device").ToList();
        if (Configs[name].Vsock is { } v)
        {
            string device = Configs[name].Root == GuestRoot.Initramfs ? "vhost-vsock-device" : "vhost-vsock-pci";
            Assert.That(devices, Does.Contain($"{device},id=vsock,guest-cid={v.GuestCid},vhostfd={v.VhostFd}"));
            Assert.That(devices.Where(d => d.StartsWith("virtserialport", StringComparison.Ordinal) || d.StartsWith("virtio-serial", StringComparison.Ordinal)), Is.Empty,
                "with vsock there are no virtio-serial ports");
            Assert.That(chardevs.Where(c => c.Contains("id=ctl") || c.Contains("id=io,")), Is.Empty);
            Assert.That(KernelCommandLine.Build(Configs[name]).Split(' '), Does.Contain($"clearoci.vsock={v.ControlPort},{v.IoPort}"));
            return;
        }
        Assert.That(chardevs, Does.Contain("socket,id=ctl,fd=3").And.Contain("socket,id=io,fd=4"));
        Assert.That(devices, Does.Contain("virtserialport,bus=ser.0,chardev=ctl,name=org.clearoci.control"));
        Assert.That(devices, Does.Contain("virtserialport,bus=ser.0,chardev=io,name=org.clearoci.io"));
        Assert.That(KernelCommandLine.Build(Configs[name]), Does.Not.Contain("clearoci.vsock"));
    }

    [Test]
    public void MissingImageOrInitramfsIsRefused()
    {
        var e = Assert.Throws<ClearOciException>(() => QemuCommandLine.Build(Q35Tcg with { Image = null }));
        Assert.That(e!.Message, Does.Contain("guest image"));
        e = Assert.Throws<ClearOciException>(() => QemuCommandLine.Build(MicrovmTcg with { Initramfs = null }));
        Assert.That(e!.Message, Does.Contain("initramfs"));
    }
}

public class KernelCommandLineTests
{
    private static QemuConfig Config(GuestRoot root, params string[] extra) =>
        new() { Name = "k", Kernel = "/k", Root = root, KernelArgs = extra };

    private static string[] Args(QemuConfig c) => KernelCommandLine.Build(c).Split(' ');

    [Test]
    public void NvdimmRootIsTheReadOnlyDaxPmem()
    {
        var args = Args(Config(GuestRoot.NvdimmImage));
        Assert.That(args, Is.SupersetOf(new[] { "root=/dev/pmem0", "rootfstype=ext4", "rootflags=dax", "ro", "init=/init" }));
        Assert.That(args, Does.Not.Contain("rdinit=/init"));
    }

    [Test]
    public void InitramfsRootRunsRdinit()
    {
        var args = Args(Config(GuestRoot.Initramfs));
        Assert.That(args, Does.Contain("rdinit=/init"));
        Assert.That(args.Where(a => a.StartsWith("root=", StringComparison.Ordinal)), Is.Empty);
    }

    [TestCase(GuestRoot.NvdimmImage)]
    [TestCase(GuestRoot.Initramfs)]
    public void ConsoleOnTheSerialPortAndNoRebootOnPanic(GuestRoot root)
    {
        var args = Args(Config(root));
        Assert.That(args[0], Is.EqualTo("console=ttyS0"));
        Assert.That(args, Does.Contain("panic=-1").And.Contain("reboot=t"));
        Assert.That(args, Does.Not.Contain("clearoci.bare=1"));
        Assert.That(args, Is.Unique);
    }

    [Test]
    public void ExtraArgumentsComeLast()
    {
        var args = Args(Config(GuestRoot.NvdimmImage, "loglevel=7", "debug"));
        Assert.That(args[^2..], Is.EqualTo(new[] { "loglevel=7", "debug" }));
    }

    [Test]
    public void BareBootAsksTheAgentToPowerOff() =>
        Assert.That(Args(Config(GuestRoot.NvdimmImage) with { Bare = true }), Does.Contain("clearoci.bare=1"));

    [Test]
    public void ExactNvdimmLine() =>
        Assert.That(KernelCommandLine.Build(Config(GuestRoot.NvdimmImage)),
            Is.EqualTo("console=ttyS0 quiet panic=-1 reboot=t random.trust_cpu=on nokaslr 8250.nr_uarts=1 root=/dev/pmem0 rootfstype=ext4 rootflags=dax ro init=/init"));
}

public class VirtiofsdCommandLineTests
{
    [Test]
    public void ServesTheDirectoryOnTheInheritedListenFd() =>
        Assert.That(VirtiofsdCommandLine.Build("/usr/lib/qemu/virtiofsd", "/bundles/b/rootfs", 3), Is.EqualTo(new[]
        {
            "/usr/lib/qemu/virtiofsd", "--fd=3", "-o", "source=/bundles/b/rootfs", "-o", "cache=auto",
            "-o", "sandbox=namespace", "-o", "announce_submounts", "--rlimit-nofile=0", "--thread-pool-size=0",
        }));

    [Test]
    public void PathsAreSingleArgumentsEvenWithSpaces()
    {
        var argv = VirtiofsdCommandLine.Build("/opt/virtiofsd", "/tmp/a dir/rootfs", 7);
        Assert.That(argv, Does.Contain("source=/tmp/a dir/rootfs"));
        Assert.That(argv, Does.Contain("--fd=7"));
        Assert.That(argv[0], Is.EqualTo("/opt/virtiofsd"));
    }
}
