using System.Text.Json.Nodes;
using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.LifecycleTests;

/// <summary>The VM is sized from linux.resources (memory limit plus the overhead, vCPUs from quota/period).</summary>
[TestFixture]
public sealed class VmSizeTests : LifecycleFixture
{
    /// <summary>Runs the bundle's container once; its guest's MemTotal in MiB and CPU count.</summary>
    private async Task<(long MemTotalMiB, int Cpus, string Output)> GuestSizeAsync()
    {
        SetArgs("sh", "-c", "grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 0, 0)), c.Stderr);
        var lines = c.Stdout.Trim().Split('\n');
        return (long.Parse(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024, int.Parse(lines[1]), c.Stdout);
    }

    [Test]
    public async Task MemoryLimitAndCpuQuota_SizeTheVm()
    {
        EditConfig(c => c["linux"]!["resources"] = new JsonObject
        {
            ["memory"] = new JsonObject { ["limit"] = 300L << 20 },
            ["cpu"] = new JsonObject { ["quota"] = 150000, ["period"] = 100000 },
        });
        var (memTotalMiB, cpus, output) = await GuestSizeAsync();
        int expectedMiB = 300 + VmSizing.OverheadMiB;
        // MemTotal is the guest's RAM less what the kernel keeps for itself (a few MiB).
        Assert.That(memTotalMiB, Is.InRange(expectedMiB - 48, expectedMiB), $"guest MemTotal for a {expectedMiB} MiB VM: {output}");
        Assert.That(cpus, Is.EqualTo(Math.Min(2, Environment.ProcessorCount)), "1.5 CPUs of quota: 2 vCPUs (at most the host's)");
    }

    [Test]
    public async Task NoLimits_TheDefaultSize()
    {
        var (memTotalMiB, cpus, output) = await GuestSizeAsync();
        Assert.That(memTotalMiB, Is.InRange(128 - 48, 128), output);
        Assert.That(cpus, Is.EqualTo(1));
    }

    /// <summary>A CRI sandbox (containerd's pod-level annotations, its own resources only cpu shares) gets a VM for the whole pod.</summary>
    [Test]
    public async Task PodAnnotations_SizeTheSandboxesVm()
    {
        EditConfig(c =>
        {
            c["annotations"] = new JsonObject
            {
                [PodAnnotations.ContainerType] = "sandbox",
                [PodAnnotations.SandboxMemory] = (300L << 20).ToString(),
                [PodAnnotations.SandboxCpuQuota] = "150000",
                [PodAnnotations.SandboxCpuPeriod] = "100000",
            };
            c["linux"]!["resources"] = new JsonObject { ["cpu"] = new JsonObject { ["shares"] = 2 } };
        });
        var (memTotalMiB, cpus, output) = await GuestSizeAsync();
        int expectedMiB = 300 + VmSizing.OverheadMiB;
        Assert.That(memTotalMiB, Is.InRange(expectedMiB - 48, expectedMiB), $"guest MemTotal for a {expectedMiB} MiB VM: {output}");
        Assert.That(cpus, Is.EqualTo(Math.Min(2, Environment.ProcessorCount)));
    }

    [Test]
    public async Task AMalformedPodAnnotation_IsRefusedBeforeAnyVm()
    {
        EditConfig(c => c["annotations"] = new JsonObject { [PodAnnotations.SandboxMemory] = "lots" });
        var c = await CreateAsync(NewId(), expectSuccess: false);
        AssertFails(c.Result, "io.kubernetes.cri.sandbox-memory: \"lots\" is not a number");
        Assert.That(VmProcessesOf(c.Id), Is.Empty, "no VM was started");
    }
}
