using System.Diagnostics;

namespace ClearOci.LifecycleTests;

/// <summary>What happens when processes die at awkward moments, and signals sent to the pid-file process.</summary>
[TestFixture]
public sealed class RobustnessTests : LifecycleFixture
{
    [Test]
    public async Task SignalToThePidFileProcess_IsForwardedToTheContainer()
    {
        // Engines that signal the pid-file pid directly (as they may with runc, where it is the
        // container's process) reach the container through the supervisor.
        SetArgs("sh", "-c", "trap \"echo got-USR2; exit 5\" USR2; echo ready; while true; do sleep 0.2; done");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(c, "ready");
        Assert.That(Native.Kill(c.Pid, 12), Is.True, "kill(pid, SIGUSR2)");
        await WaitForOutputAsync(c, "got-USR2");
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 5, 0)));
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task SupervisorKilled_ContainerIsStoppedAndTheVmGoes()
    {
        SetArgs("sleep", "1000");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        Assert.That(Native.Kill(c.Pid, 9), Is.True);
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(false, 0, 9)));

        Assert.That(await StatusAsync(id), Is.EqualTo("stopped"), "a dead supervisor means a stopped container");
        // QEMU and virtiofsd notice the lost link and exit; they were re-parented to this process.
        await Poll.UntilAsync(() => { Native.ReapZombies(); return VmProcessesOf(WorkDir); }, l => l.Count == 0,
            TimeSpan.FromSeconds(20), "the VM's processes exit after their supervisor died");
        AssertFails(await Oci("start", id), "cannot start a container that has stopped");
        AssertFails(await Oci("kill", id, "KILL"), "not running");
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
        Assert.That(Directory.EnumerateFileSystemEntries(StateRoot), Is.Empty);
    }

    [Test]
    public async Task DeleteRightAfterStopped_LeavesNothingBehind()
    {
        // The state says stopped as soon as the supervisor records the exit; it may still be powering
        // the VM off. A delete at that moment must still leave nothing behind.
        SetArgs("sh", "-c", "exit 0");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForStatusAsync(id, "stopped");
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False);
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 0, 0)), "the supervisor still exits with the container's status");
        await Poll.UntilAsync(() => VmProcessesOf(WorkDir), l => l.Count == 0, TimeSpan.FromSeconds(10), "no VM process");
        Assert.That(Directory.EnumerateFileSystemEntries(StateRoot), Is.Empty, "the supervisor did not re-create anything under the root");
    }

    [Test]
    public async Task CreateCallerKilledMidBoot_SupervisorDoesNotCrash()
    {
        SetArgs("sleep", "1000");
        string id = NewId();
        string stderr = Path.Combine(WorkDir, $"{id}.err");
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >/dev/null 2>>\"$LT_STDERR\"");
        foreach (var a in new[] { Cli.Binary, "--root", StateRoot, "create", "--bundle", Bundle, id }) psi.ArgumentList.Add(a);
        psi.Environment["LT_STDERR"] = stderr;
        using var create = Process.Start(psi)!;
        // Kill `create` while the VM boots: its state directory exists and a QEMU runs for it.
        await Poll.UntilAsync(() => Processes.Matching(WorkDir, l => l.Contains("qemu", StringComparison.Ordinal)).Count, n => n > 0,
            TimeSpan.FromSeconds(60), "QEMU started");
        create.Kill();
        await create.WaitForExitAsync();

        // The supervisor carries on booting, then finds nobody to report to.
        int supervisor = Processes.Matching(StateRoot, l => l.Contains(" supervise ", StringComparison.Ordinal)).Select(p => p.Pid).SingleOrDefault();
        Assert.That(supervisor, Is.GreaterThan(0), "the supervisor runs");
        // It reports readiness right after it records "created"; give it 5 s from there to exit or live on.
        await Poll.UntilAsync(() => File.Exists(Path.Combine(StateRoot, id, "state.json"))
                && (File.ReadAllText(Path.Combine(StateRoot, id, "state.json")).Contains("\"Created\"", StringComparison.Ordinal)
                    || !Directory.Exists($"/proc/{supervisor}") || Native.ZombieChildren().Contains(supervisor)),
            done => done, TimeSpan.FromSeconds(60), "the supervisor finished booting");
        var end = Native.TryReap(supervisor, TimeSpan.FromSeconds(5));
        TestContext.Out.WriteLine($"supervisor {supervisor}: {end?.ToString() ?? "still running"}; its stderr: {Created.ReadShared(stderr)}");
        Assert.That(Created.ReadShared(stderr), Does.Not.Contain("Unhandled exception"), "the supervisor's stderr (the container's)");
        if (end is { } e) Assert.That(e.Exited, Is.True, $"the supervisor exits, it is not killed by a signal: {e}");
    }
}
