using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Tests;

public class HostInfoTests
{
    /// <summary>Whether this process can open /dev/kvm read-write (what the probe needs besides vmx/svm).</summary>
    private static bool KvmOpens()
    {
        try { using var h = File.OpenHandle("/dev/kvm", FileMode.Open, FileAccess.ReadWrite); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    [TestCase("fpu vme vmx sse2")]
    [TestCase("svm")]
    [TestCase("")]
    public void ForcedTcgIsNeverKvm(string flags)
    {
        var (usable, why) = HostInfo.ProbeKvm("tcg", flags);
        Assert.That(usable, Is.False);
        Assert.That(why, Is.EqualTo("CLEAROCI_ACCEL=tcg"));
    }

    [TestCase("fpu vme de pse tsc msr pae sse2 hypervisor")]
    [TestCase("")]
    [TestCase("avmx vmxx svm2 nosvm")]
    public void NoVmxOrSvmMeansNoKvm(string flags)
    {
        var (usable, why) = HostInfo.ProbeKvm(null, flags);
        Assert.That(usable, Is.False);
        Assert.That(why, KvmOpens() ? Does.Contain("no vmx/svm") : Does.StartWith("/dev/kvm:"));
    }

    [TestCase("fpu vme vmx sse2")]
    [TestCase("fpu svm sse2")]
    [TestCase(" vmx ")]
    public void VmxOrSvmWithAnOpenableDevKvmMeansKvm(string flags)
    {
        var (usable, why) = HostInfo.ProbeKvm(null, flags);
        Assert.That(usable, Is.EqualTo(KvmOpens()));
        Assert.That(why, usable ? Is.Null : Does.StartWith("/dev/kvm:"));
    }

    [Test]
    public void ForcedKvmSkipsTheFlagCheckButNotTheDevice()
    {
        var (usable, why) = HostInfo.ProbeKvm("kvm", "fpu");
        Assert.That(usable, Is.EqualTo(KvmOpens()));
        if (!usable) Assert.That(why, Does.StartWith("/dev/kvm:"));
    }

    [Test, NonParallelizable]
    public void ProbeHonoursTheAccelVariable()
    {
        string? saved = Environment.GetEnvironmentVariable(HostInfo.AccelVariable);
        Environment.SetEnvironmentVariable(HostInfo.AccelVariable, "tcg");
        try
        {
            var host = HostInfo.Probe();
            Assert.That((host.KvmUsable, host.Accel, host.KvmError), Is.EqualTo((false, Accel.Tcg, "CLEAROCI_ACCEL=tcg")));
        }
        finally { Environment.SetEnvironmentVariable(HostInfo.AccelVariable, saved); }
    }
}

public class GuestAssetsTests
{
    private static void MakeAssets(string dir, bool image = true, bool initramfs = true, string? version = "v1")
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "vmlinux"), "kernel");
        if (image) File.WriteAllBytes(Path.Combine(dir, "clearoci.img"), new byte[4096]);
        if (initramfs) File.WriteAllText(Path.Combine(dir, "initramfs.cpio.gz"), "cpio");
        if (version != null) File.WriteAllText(Path.Combine(dir, "version"), version + "\n");
    }

    [Test]
    public void ExplicitDirectoryIsTheOnlyPlace() =>
        Assert.That(GuestAssets.SearchPath("/opt/assets", "/opt/clearoci/bin"), Is.EqualTo(new[] { "/opt/assets" }));

    [Test]
    public void DefaultSearchPath() =>
        Assert.That(GuestAssets.SearchPath(null, "/opt/clearoci/bin"), Is.EqualTo(new[]
        {
            "/opt/clearoci/share/clearoci/current", "/usr/local/share/clearoci/current", "/usr/share/clearoci/current",
        }));

    [Test]
    public void EmptyExplicitDirectoryMeansUnset() =>
        Assert.That(GuestAssets.SearchPath("", "/x/bin"), Is.EqualTo(GuestAssets.SearchPath(null, "/x/bin")));

    [Test]
    public void WithoutExecutableDirectoryOnlySystemPlaces() =>
        Assert.That(GuestAssets.SearchPath(null, null), Is.EqualTo(new[] { "/usr/local/share/clearoci/current", "/usr/share/clearoci/current" }));

    [Test]
    public void ExplicitDirectoryWinsOverTheExecutablesShare()
    {
        using var t = new TempDir();
        MakeAssets(t.Combine("explicit"), version: "explicit");
        MakeAssets(t.Combine("share", "clearoci", "current"), version: "beside");
        var a = GuestAssets.Locate(t.Combine("explicit"), t.Combine("bin"));
        Assert.That(a.Version, Is.EqualTo("explicit"));
        Assert.That(a.Kernel, Is.EqualTo(t.Combine("explicit", "vmlinux")));
    }

    [Test]
    public void AnExplicitDirectoryWithoutAssetsFailsEvenIfOthersHaveThem()
    {
        using var t = new TempDir();
        MakeAssets(t.Combine("share", "clearoci", "current"));
        var e = Assert.Throws<ClearOciException>(() => GuestAssets.Locate(t.Combine("empty"), t.Combine("bin")));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.Unsupported));
        Assert.That(e.Message, Does.Contain(t.Combine("empty")));
    }

    [Test]
    public void MissingAssetsListEveryPlaceSearched()
    {
        using var t = new TempDir();
        string bin = t.Combine("bin");
        Assume.That(GuestAssets.SearchPath(null, bin).Where(d => File.Exists(Path.Combine(d, "vmlinux"))), Is.Empty,
            "this host has ClearOci's guest assets installed in a system place");
        var e = Assert.Throws<ClearOciException>(() => GuestAssets.Locate(null, bin));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.Unsupported));
        foreach (var place in GuestAssets.SearchPath(null, bin))
            Assert.That(e.Message, Does.Contain(place));
        Assert.That(e.Message, Does.Contain(t.Combine("share", "clearoci", "current")));
        Assert.That(e.Message, Does.Contain("make assets").And.Contain(GuestAssets.EnvironmentVariable));
    }

    [Test]
    public void CurrentSymlinkIsResolvedToTheVersionDirectory()
    {
        using var t = new TempDir();
        string share = t.Combine("share", "clearoci");
        MakeAssets(Path.Combine(share, "versions", "abc123"), version: "abc123");
        MakeAssets(Path.Combine(share, "versions", "old"), version: "old");
        // As activate.sh makes it: a relative link.
        File.CreateSymbolicLink(Path.Combine(share, "current"), "versions/abc123");
        var a = GuestAssets.Locate(null, t.Combine("bin"));
        string versionDir = Path.Combine(share, "versions", "abc123");
        Assert.That(a.Directory, Is.EqualTo(versionDir));
        Assert.That(a.Kernel, Is.EqualTo(Path.Combine(versionDir, "vmlinux")));
        Assert.That(a.Image, Is.EqualTo(Path.Combine(versionDir, "clearoci.img")));
        Assert.That(a.Initramfs, Is.EqualTo(Path.Combine(versionDir, "initramfs.cpio.gz")));
        Assert.That(a.Version, Is.EqualTo("abc123"));

        // Switching `current` does not change assets already located.
        File.Delete(Path.Combine(share, "current"));
        File.CreateSymbolicLink(Path.Combine(share, "current"), "versions/old");
        Assert.That(a.Kernel, Does.StartWith(versionDir));
        Assert.That(GuestAssets.Locate(null, t.Combine("bin")).Directory, Is.EqualTo(Path.Combine(share, "versions", "old")));
    }

    [Test]
    public void OptionalPiecesAreNullAndVersionDefaults()
    {
        using var t = new TempDir();
        MakeAssets(t.Path, image: false, initramfs: false, version: null);
        var a = GuestAssets.Locate(t.Path, null);
        Assert.That((a.Image, a.Initramfs, a.Version), Is.EqualTo(((string?)null, (string?)null, "unknown")));
    }
}

public class VmSettingsTests
{
    private static VmSettings From(params (string Name, string Value)[] vars) =>
        VmSettings.From(name => vars.FirstOrDefault(v => v.Name == name).Value);

    [Test]
    public void Defaults()
    {
        var s = From();
        Assert.That((s.MemoryMiB, s.Vcpus, s.Root), Is.EqualTo((128, 1, (GuestRoot?)null)));
    }

    [Test]
    public void Overrides()
    {
        var s = From(("CLEAROCI_MEMORY_MIB", "256"), ("CLEAROCI_VCPUS", "2"), ("CLEAROCI_GUEST_ROOT", "initramfs"));
        Assert.That((s.MemoryMiB, s.Vcpus, s.Root), Is.EqualTo((256, 2, (GuestRoot?)GuestRoot.Initramfs)));
        Assert.That(From(("CLEAROCI_GUEST_ROOT", "image")).Root, Is.EqualTo(GuestRoot.NvdimmImage));
        Assert.That(From().TcgCacheMiB, Is.EqualTo(32));
        Assert.That(From(("CLEAROCI_TCG_CACHE_MIB", "16")).TcgCacheMiB, Is.EqualTo(16));
    }

    [TestCase("CLEAROCI_MEMORY_MIB", "lots")]
    [TestCase("CLEAROCI_MEMORY_MIB", "16")]
    [TestCase("CLEAROCI_VCPUS", "0")]
    [TestCase("CLEAROCI_GUEST_ROOT", "floppy")]
    [TestCase("CLEAROCI_TCG_CACHE_MIB", "0")]
    public void BadValuesAreRefusedByName(string name, string value)
    {
        var e = Assert.Throws<ClearOciException>(() => From((name, value)));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        Assert.That(e.Message, Does.StartWith($"{name}={value}:"));
    }
}

public class PlanQemuTests
{
    private static readonly GuestAssets Both = new("/a", "/a/vmlinux", "/a/clearoci.img", "/a/initramfs.cpio.gz", "v1", 12 << 20);
    private static readonly HostInfo Host = new() { Qemu = "/usr/bin/qemu-system-x86_64", KvmUsable = false };

    private static VmOptions Options(GuestAssets assets, HostInfo host, GuestRoot? root = null) =>
        new() { Name = "p", RuntimeDir = "/run/p", Assets = assets, Host = host, Root = root };

    [Test]
    public void ImageIsPreferredWhenPresent()
    {
        var c = VirtualMachine.PlanQemu(Options(Both, Host), [], "/run/p/console.log");
        Assert.That((c.Root, c.Accel, c.ImageBytes, c.QemuBinary), Is.EqualTo((GuestRoot.NvdimmImage, Accel.Tcg, 12L << 20, "/usr/bin/qemu-system-x86_64")));
    }

    [Test]
    public void TheTcgCacheSizeReachesQemu()
    {
        Assert.That(VirtualMachine.PlanQemu(Options(Both, Host), [], null).TcgCacheMiB, Is.EqualTo(32));
        Assert.That(VirtualMachine.PlanQemu(Options(Both, Host) with { TcgCacheMiB = 16 }, [], null).TcgCacheMiB, Is.EqualTo(16));
    }

    [Test]
    public void InitramfsWhenNoImage() =>
        Assert.That(VirtualMachine.PlanQemu(Options(Both with { Image = null }, Host), [], null).Root, Is.EqualTo(GuestRoot.Initramfs));

    [Test]
    public void KvmHostPlansKvm() =>
        Assert.That(VirtualMachine.PlanQemu(Options(Both, Host with { KvmUsable = true }), [], null).Accel, Is.EqualTo(Accel.Kvm));

    [Test]
    public void MissingPiecesAreRefusedBeforeAnythingStarts()
    {
        var e = Assert.Throws<ClearOciException>(() => VirtualMachine.PlanQemu(Options(Both, Host with { Qemu = null }), [], null));
        Assert.That((e!.Code, e.Message), Is.EqualTo((ErrorCode.Unsupported, "qemu-system-x86_64 not found (apt-get install qemu-system-x86)")));
        e = Assert.Throws<ClearOciException>(() => VirtualMachine.PlanQemu(Options(Both with { Image = null }, Host, GuestRoot.NvdimmImage), [], null));
        Assert.That(e!.Message, Does.Contain("no guest image"));
        e = Assert.Throws<ClearOciException>(() => VirtualMachine.PlanQemu(Options(Both with { Initramfs = null }, Host, GuestRoot.Initramfs), [], null));
        Assert.That(e!.Message, Does.Contain("no initramfs"));
    }
}
