using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// Fault injection with real VMs: a VM never outlives its supervisor, a dead helper ends its
/// container, a supervisor that does not answer is a bounded error; after each, `state` is right,
/// `delete --force` cleans up, and the fixture finds nothing left (processes, root, work dir).
/// </summary>
[TestFixture]
public sealed class FaultTests : LifecycleFixture
{
    private List<Processes.Info> VmOf(string id) =>
        Processes.Matching(Path.Combine(StateRoot, id), l => l.Contains("qemu", StringComparison.Ordinal) || l.Contains("virtiofsd", StringComparison.Ordinal));

    /// <summary>A started `sleep 1000` container.</summary>
    private async Task<(string Id, Created Created)> StartedSleeperAsync()
    {
        SetArgs("sleep", "1000");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        return (id, c);
    }

    private async Task<int> SupervisorPid(string id) => (int?)(await StateAsync(id))["pid"] ?? 0;

    private async Task NothingOfItRunsWithin(string id, TimeSpan deadline, string what) =>
        await Poll.UntilAsync(() => { Native.ReapZombies(); return VmOf(id); }, l => l.Count == 0, deadline, what);

    /// <summary>A background `create` with its output in files; returns once QEMU of the container runs (the guest is booting).</summary>
    private async Task<Process> CreateUntilQemuRunsAsync(string id, params string[] verb)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >/dev/null 2>/dev/null");
        foreach (var a in (string[])[Cli.Binary, "--root", StateRoot, .. verb, "--bundle", Bundle, id]) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        await Poll.UntilAsync(() => VmOf(id).Count(x => x.CommandLine.Contains("qemu", StringComparison.Ordinal)), n => n > 0,
            TimeSpan.FromSeconds(60), $"{id}: QEMU started");
        return p;
    }

    [Test]
    public async Task SupervisorSigkilledDuringTheBoot_QemuAndVirtiofsdDieWithIt()
    {
        SetArgs("sleep", "1000");
        string id = NewId();
        using var create = await CreateUntilQemuRunsAsync(id, "create");
        int supervisor = await SupervisorPid(id);
        Assert.That(supervisor, Is.GreaterThan(0), "state names the supervisor while the VM boots");
        var vm = VmOf(id);
        Assert.That(vm, Has.Count.GreaterThanOrEqualTo(2), "QEMU and virtiofsd run");
        Native.Kill(supervisor, 9);
        await create.WaitForExitAsync();
        Assert.That(create.ExitCode, Is.Not.EqualTo(0), "create reports the failure");
        // The kernel kills them (their parent-death signal): no agent is up yet to power the VM off.
        await NothingOfItRunsWithin(id, TimeSpan.FromSeconds(10), "QEMU and virtiofsd end with their supervisor");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "create removed what it made");
    }

    [Test]
    public async Task RunSigkilledDuringTheBoot_TheContainerLivesOnWithItsSupervisor_AndDeleteForceCleansUp()
    {
        // As with runc, `run` is a client: killing it leaves a container that every verb sees.
        SetArgs("sleep", "1000");
        string id = NewId();
        using var run = await CreateUntilQemuRunsAsync(id, "run");
        run.Kill();
        await run.WaitForExitAsync();
        var state = await Oci("state", id);
        Assert.That(state.ExitCode, Is.EqualTo(0), $"the container exists: {state}");
        string status = (string)JsonNode.Parse(state.Stdout)!["status"]!;
        Assert.That(status, Is.AnyOf("creating", "created"), state.ToString());
        var delete = await Oci("delete", "--force", id);
        Assert.That(delete.ExitCode, Is.EqualTo(0), delete.ToString());
        await NothingOfItRunsWithin(id, TimeSpan.FromSeconds(15), "delete --force ends the VM");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False);
    }

    [TestCase("virtiofsd")]
    [TestCase("qemu")]
    public async Task AVmProcessSigkilled_TheContainerStops_AndDeleteForceCleansUp(string which)
    {
        var (id, c) = await StartedSleeperAsync();
        var victim = VmOf(id).First(p => p.CommandLine.Contains(which, StringComparison.Ordinal));
        var clock = Stopwatch.StartNew();
        Native.Kill(victim.Pid, 9);
        await Poll.UntilAsync(() => StatusAsync(id), s => s == "stopped", TimeSpan.FromSeconds(10), $"{id}: stopped after {which} died");
        TestContext.Out.WriteLine($"stopped {clock.ElapsedMilliseconds} ms after {which} was killed");
        var exit = ReapExit(c);
        Assert.That(exit, Is.EqualTo(new WaitResult(true, 137, 0)), "the supervisor exits as for a SIGKILLed container");
        await NothingOfItRunsWithin(id, TimeSpan.FromSeconds(10), "the rest of the VM ends");
        clock.Restart();
        var delete = await Oci("delete", "--force", id);
        Assert.That(delete.ExitCode, Is.EqualTo(0), delete.ToString());
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "nothing to wait for");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False);
    }

    [Test]
    public async Task SupervisorStopped_AVerbFailsInBoundedTime_NamingTheSupervisor()
    {
        var (id, c) = await StartedSleeperAsync();
        Assert.That(Native.Kill(c.Pid, 19), Is.True, "SIGSTOP");
        try
        {
            var kill = await Oci("kill", id, "TERM");
            AssertFails(kill, "did not answer");
            Assert.That(kill.Stderr, Does.Contain(Path.Combine(StateRoot, id, "sock")), "names the socket");
        }
        finally { Native.Kill(c.Pid, 18); }
        Assert.That(await StatusAsync(id), Is.EqualTo("running"), "SIGCONT: it answers again");
    }

    [Test]
    public async Task PausedContainer_CanBeUpdated_AndStaysPaused_AsRunc()
    {
        SetArgs("sleep", "1000");
        string id = NewId(), runcId = NewRuncId();
        foreach (var (name, runc) in new[] { (id, false), (runcId, true) })
        {
            Task<CliResult> Verb(params string[] a) => runc ? Runc(a) : Oci(a);
            await CreateAsync(name, runc: runc);
            Assert.That((await Verb("start", name)).ExitCode, Is.EqualTo(0));
            Assert.That((await Verb("pause", name)).ExitCode, Is.EqualTo(0));
            var update = await Verb("update", "--pids-limit", "3", name);
            Assert.That(update.ExitCode, Is.EqualTo(0), $"{(runc ? "runc" : "clearoci")}: {update}");
            Assert.That(await StatusAsync(name, runc), Is.EqualTo("paused"), "still paused");
            Assert.That((await Verb("resume", name)).ExitCode, Is.EqualTo(0));
            Assert.That(await StatusAsync(name, runc), Is.EqualTo("running"));
        }
        // The limit took: six forks fail (sleep, the exec's shell and its children count).
        var forks = await Oci("exec", id, "sh", "-c", "for i in 1 2 3 4 5 6; do sleep 1 & done; wait; echo forked");
        Assert.That(forks.Stderr, Does.Contain("can't fork"), $"the update reached the container's cgroup: {forks}");
    }

    [Test]
    public async Task PausedContainer_DeleteForce_EndsItsVm()
    {
        var (id, c) = await StartedSleeperAsync();
        Assert.That((await Oci("pause", id)).ExitCode, Is.EqualTo(0));
        var clock = Stopwatch.StartNew();
        var delete = await Oci("delete", "--force", id);
        Assert.That(delete.ExitCode, Is.EqualTo(0), delete.ToString());
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(14)), "the supervisor answered: no 15 s wait and kill");
        Assert.That(ReapExit(c).Code, Is.EqualTo(137));
        await NothingOfItRunsWithin(id, TimeSpan.FromSeconds(10), "the VM ends");
    }
}
