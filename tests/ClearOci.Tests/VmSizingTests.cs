using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Tests;

public class VmSizingTests
{
    private static readonly VmSettings Defaults = new() { MemoryMiB = 128, Vcpus = 1 };

    private static VmSizing.Size Size(LinuxResources? r, int hostCpus = 8, long hostMiB = 16384) => VmSizing.From(r, Defaults, hostCpus, hostMiB);

    [Test]
    public void NoLimits_GiveTheDefaults() =>
        Assert.That(Size(null), Is.EqualTo(new VmSizing.Size(128, 1)));

    [TestCase(512L << 20, 512 + VmSizing.OverheadMiB)]
    [TestCase((256L << 20) + 1, 257 + VmSizing.OverheadMiB)] // rounded up to whole MiB
    [TestCase(6L << 20, 128)] // below the default: the default
    [TestCase(-1L, 128)] // unlimited
    [TestCase(0L, 128)]
    public void Memory_IsTheLimitPlusTheOverhead(long limit, int expected) =>
        Assert.That(Size(new LinuxResources { Memory = new LinuxMemory { Limit = limit } }).MemoryMiB, Is.EqualTo(expected));

    [Test]
    public void Memory_IsCappedByTheHost() =>
        Assert.That(Size(new LinuxResources { Memory = new LinuxMemory { Limit = 64L << 30 } }, hostMiB: 4096).MemoryMiB, Is.EqualTo(4096));

    [TestCase(100000L, 100000UL, 1)]
    [TestCase(150000L, 100000UL, 2)] // 1.5 CPUs: rounded up
    [TestCase(400000L, 100000UL, 4)]
    [TestCase(50000L, 100000UL, 1)]
    [TestCase(2000000L, 100000UL, 8)] // 20 CPUs on an 8-CPU host
    [TestCase(-1L, 100000UL, 1)] // no quota
    public void Vcpus_AreTheQuotaOverThePeriod(long quota, ulong period, int expected) =>
        Assert.That(Size(new LinuxResources { Cpu = new LinuxCpu { Quota = quota, Period = period } }).Vcpus, Is.EqualTo(expected));

    [Test]
    public void Vcpus_FollowTheCpusetWithoutAQuota()
    {
        Assert.That(Size(new LinuxResources { Cpu = new LinuxCpu { Cpus = "0-2,5" } }).Vcpus, Is.EqualTo(4));
        Assert.That(Size(new LinuxResources { Cpu = new LinuxCpu { Cpus = "0-63" } }, hostCpus: 2).Vcpus, Is.EqualTo(2));
        Assert.That(Size(new LinuxResources { Cpu = new LinuxCpu { Cpus = "0-1", Quota = 300000, Period = 100000 } }).Vcpus, Is.EqualTo(3), "the quota wins");
    }

    [Test]
    public void TheDefaultsComeFromTheEnvironmentSettings()
    {
        var big = new VmSettings { MemoryMiB = 256, Vcpus = 2 };
        Assert.That(VmSizing.From(null, big, 8, 16384), Is.EqualTo(new VmSizing.Size(256, 2)));
        Assert.That(VmSizing.From(new LinuxResources { Memory = new LinuxMemory { Limit = 64L << 20 } }, big, 8, 16384).MemoryMiB, Is.EqualTo(256));
    }

    [TestCase("0", 1)]
    [TestCase("0-3", 4)]
    [TestCase("1,3,5-7", 5)]
    [TestCase("0-1,1-2", 3)]
    [TestCase("", null)]
    [TestCase("x", null)]
    [TestCase("3-1", null)]
    public void CountCpus_ReadsACpusetList(string list, int? expected) =>
        Assert.That(VmSizing.CountCpus(list), Is.EqualTo(expected));

    private static Dictionary<string, string> Pod(string memory, string quota, string period = "100000") => new()
    {
        [PodAnnotations.SandboxMemory] = memory, [PodAnnotations.SandboxCpuQuota] = quota,
        [PodAnnotations.SandboxCpuPeriod] = period, [PodAnnotations.ContainerType] = "sandbox",
    };

    [Test]
    public void ASandbox_IsSizedForItsPod()
    {
        // containerd's sandbox: its own resources are cpu shares only; the annotations sum the pod's limits.
        var own = new LinuxResources { Cpu = new LinuxCpu { Shares = 2 } };
        Assert.That(VmSizing.ForContainer(own, PodAnnotations.Limits(Pod((300L << 20).ToString(), "250000")), Defaults, 8, 16384),
            Is.EqualTo(new VmSizing.Size(300 + VmSizing.OverheadMiB, 3)));
        Assert.That(VmSizing.ForContainer(own, PodAnnotations.Limits(Pod("0", "0")), Defaults, 8, 16384), Is.EqualTo(new VmSizing.Size(128, 1)), "a pod without limits: the defaults");
        Assert.That(VmSizing.ForContainer(own, PodAnnotations.Limits(null), Defaults, 8, 16384), Is.EqualTo(new VmSizing.Size(128, 1)), "no annotations (docker, podman)");
    }

    [Test]
    public void TheLargerOfTheContainersAndThePodsLimits_Wins()
    {
        var own = new LinuxResources { Memory = new LinuxMemory { Limit = 512L << 20 }, Cpu = new LinuxCpu { Quota = 100000, Period = 100000 } };
        Assert.That(VmSizing.ForContainer(own, PodAnnotations.Limits(Pod((200L << 20).ToString(), "300000")), Defaults, 8, 16384),
            Is.EqualTo(new VmSizing.Size(512 + VmSizing.OverheadMiB, 3)));
    }

    [TestCase("lots")]
    [TestCase("1.5e9")]
    public void AMalformedPodAnnotation_IsAClearError(string memory)
    {
        var e = Assert.Throws<ClearOciException>(() => PodAnnotations.Limits(Pod(memory, "0")));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        Assert.That(e.Message, Does.Contain(PodAnnotations.SandboxMemory).And.Contain(memory));
    }
}
