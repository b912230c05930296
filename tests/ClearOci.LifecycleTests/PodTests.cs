using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// One VM per pod: a container whose CRI annotations name a live sandbox container of the same
/// --root is created in the sandbox's VM (docs/ARCHITECTURE.md, "Pods").
/// </summary>
[TestFixture]
public sealed class PodTests : LifecycleFixture
{
    private const string BootId = "/proc/sys/kernel/random/boot_id";

    private void Annotate(string bundle, string type, string sandboxId) =>
        EditConfig(c => c["annotations"] = new JsonObject
        {
            ["io.kubernetes.cri.container-type"] = type,
            ["io.kubernetes.cri.sandbox-id"] = sandboxId,
        }, bundle);

    private async Task<string> MakeAppBundleAsync(string name)
    {
        string bundle = Path.Combine(WorkDir, name);
        await MakeBundleAsync(bundle);
        return bundle;
    }

    private List<Processes.Info> Qemus() => Processes.Matching(WorkDir, l => l.Contains("qemu-system", StringComparison.Ordinal));

    /// <summary>The pod's sandbox (Bundle) and an app container (a second bundle, binding a host directory), both started.</summary>
    private async Task<(Created Sandbox, Created App, string Volume)> StartPodAsync(string appBackground = "")
    {
        string sandboxId = NewId("sb"), appId = NewId("app");
        Annotate(Bundle, "sandbox", sandboxId);
        SetArgs("sh", "-c", $"cat {BootId}; echo sandbox-up; exec sleep 1000");
        string app = await MakeAppBundleAsync("app");
        string volume = Path.Combine(WorkDir, "volume");
        Directory.CreateDirectory(volume);
        Annotate(app, "container", sandboxId);
        SetArgsIn(app, "sh", "-c", $"cat {BootId}; echo from-app > /vol/file; {appBackground} echo app-up; exec sleep 1000");
        EditConfig(c => c["mounts"]!.AsArray().Add(new JsonObject
        {
            ["destination"] = "/vol", ["type"] = "bind", ["source"] = volume, ["options"] = new JsonArray("rbind", "rw"),
        }), app);

        var sandbox = await CreateAsync(sandboxId);
        Assert.That((await Oci("start", sandboxId)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(sandbox, "sandbox-up");
        var appCreated = await CreateAsync(appId, app);
        Assert.That(await StatusAsync(appId), Is.EqualTo("created"));
        Assert.That((await Oci("start", appId)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(appCreated, "app-up");
        return (sandbox, appCreated, volume);
    }

    [Test]
    public async Task TwoContainersOfOnePod_RunInOneVm_UntilTheSandboxGoes()
    {
        var (sandbox, app, volume) = await StartPodAsync();

        Assert.That(Qemus(), Has.Count.EqualTo(1), "one QEMU for the whole pod");
        string sandboxBoot = sandbox.Stdout.Split('\n')[0], appBoot = app.Stdout.Split('\n')[0];
        Assert.That(appBoot, Is.EqualTo(sandboxBoot).And.Not.Empty, "both containers see the same guest kernel (boot id)");
        Assert.That(app.Pid, Is.Not.EqualTo(sandbox.Pid), "each container has its own pid-file process");
        Assert.That(File.ReadAllText(Path.Combine(volume, "file")), Is.EqualTo("from-app\n"), "the app's host bind, added to the running VM's share, is writable");

        var exec = await Oci("exec", app.Id, "cat", BootId);
        Assert.That(exec.ExitCode, Is.EqualTo(0), exec.ToString());
        Assert.That(exec.Stdout.Trim(), Is.EqualTo(sandboxBoot), "exec in the app runs in the pod's VM");
        var ps = await Oci("ps", "--format", "json", app.Id);
        Assert.That(ps.Stdout, Does.Contain(app.Pid.ToString()), ps.ToString());

        Assert.That((await Oci("kill", app.Id, "KILL")).ExitCode, Is.EqualTo(0));
        var exit = ReapExit(app);
        Assert.That(exit, Is.EqualTo(new WaitResult(true, 137, 0)), "the app's pid-file process exits with 128 + SIGKILL");
        Assert.That(await WaitForStatusAsync(app.Id, "stopped"), Is.EqualTo("stopped"));
        Assert.That((await Oci("delete", app.Id)).ExitCode, Is.EqualTo(0));
        Assert.That(Directory.Exists(Path.Combine(StateRoot, app.Id)), Is.False);
        Assert.That(await StatusAsync(sandbox.Id), Is.EqualTo("running"), "the sandbox outlives the app");
        Assert.That(Qemus(), Has.Count.EqualTo(1), "the VM stays while the sandbox runs");
        Assert.That(Directory.EnumerateFileSystemEntries(Path.Combine(StateRoot, sandbox.Id, "share")).Select(Path.GetFileName),
            Is.EqualTo(new[] { "rootfs" }), "the app's entries left the share");

        Assert.That((await Oci("kill", sandbox.Id, "KILL")).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(sandbox), Is.EqualTo(new WaitResult(true, 137, 0)));
        await Poll.UntilAsync(() => Qemus().Count, n => n == 0, StatusDeadline, "the pod's VM is gone");
        Assert.That((await Oci("delete", sandbox.Id)).ExitCode, Is.EqualTo(0));
    }

    /// <summary>
    /// Pausing a pod's later container freezes its processes alone (its cgroup's freezer in the
    /// guest, as runc pauses): the sandbox in the same VM keeps answering; resume thaws it.
    /// </summary>
    [Test]
    public async Task PodContainer_PauseFreezesItAlone_ResumeThaws()
    {
        // The app's second process: a counter written to the shared volume ten times a second.
        var (sandbox, app, volume) = await StartPodAsync(
            "(i=0; while true; do i=$((i+1)); echo $i > /vol/count.tmp; mv /vol/count.tmp /vol/count; sleep 0.1; done) &");
        string count = Path.Combine(volume, "count");
        int Read() => File.Exists(count) && int.TryParse(File.ReadAllText(count).Trim(), out int n) ? n : -1;
        int first = await Poll.UntilAsync(Read, n => n > 0, StatusDeadline, "the counter runs");
        await Poll.UntilAsync(Read, n => n > first, StatusDeadline, "the counter advances");

        Assert.That((await Oci("pause", app.Id)).ExitCode, Is.EqualTo(0));
        Assert.That(await StatusAsync(app.Id), Is.EqualTo("paused"));
        int frozen = Read();
        // The sandbox, in the same VM, still runs an exec (a few hundred ms under TCG): the VM was not stopped.
        var exec = await Oci("exec", sandbox.Id, "cat", BootId);
        Assert.That(exec.ExitCode, Is.EqualTo(0), "the sandbox still answers: " + exec);
        Assert.That(await StatusAsync(sandbox.Id), Is.EqualTo("running"));
        Assert.That(Read(), Is.EqualTo(frozen), "the app's counter stood still meanwhile");
        AssertFails(await Oci("exec", app.Id, "true"), "cannot exec in a paused container");

        Assert.That((await Oci("resume", app.Id)).ExitCode, Is.EqualTo(0));
        Assert.That(await StatusAsync(app.Id), Is.EqualTo("running"));
        await Poll.UntilAsync(Read, n => n > frozen, StatusDeadline, "the counter runs again after resume");

        // SIGKILL reaches a paused pod container too.
        Assert.That((await Oci("pause", app.Id)).ExitCode, Is.EqualTo(0));
        Assert.That((await Oci("kill", app.Id, "KILL")).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(app), Is.EqualTo(new WaitResult(true, 137, 0)));
        Assert.That(await WaitForStatusAsync(app.Id, "stopped"), Is.EqualTo("stopped"));
        Assert.That(await StatusAsync(sandbox.Id), Is.EqualTo("running"));
    }

    [Test]
    public async Task SandboxExit_KillsThePodsOtherContainers()
    {
        var (sandbox, app, _) = await StartPodAsync();

        Assert.That((await Oci("kill", sandbox.Id, "KILL")).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(app), Is.EqualTo(new WaitResult(true, 137, 0)), "the app is killed with its pod's VM");
        Assert.That(ReapExit(sandbox), Is.EqualTo(new WaitResult(true, 137, 0)));
        Assert.That(await StatusAsync(app.Id), Is.EqualTo("stopped"));
        await Poll.UntilAsync(() => Qemus().Count, n => n == 0, StatusDeadline, "the pod's VM is gone");
        Assert.That((await Oci("delete", app.Id)).ExitCode, Is.EqualTo(0));
        Assert.That((await Oci("delete", sandbox.Id)).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task PodContainer_DeleteForce_KillsItAndKeepsTheSandbox()
    {
        var (sandbox, app, _) = await StartPodAsync();

        Assert.That((await Oci("delete", "--force", app.Id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(app), Is.EqualTo(new WaitResult(true, 137, 0)));
        Assert.That(Directory.Exists(Path.Combine(StateRoot, app.Id)), Is.False);
        Assert.That(await StatusAsync(sandbox.Id), Is.EqualTo("running"));
        var exec = await Oci("exec", sandbox.Id, "true");
        Assert.That(exec.ExitCode, Is.EqualTo(0), exec.ToString());
    }

    [Test]
    public async Task PodContainer_MissingBindSource_FailsAndLeavesThePodAlone()
    {
        string sandboxId = NewId("sb"), appId = NewId("app");
        Annotate(Bundle, "sandbox", sandboxId);
        SetArgs("sh", "-c", "echo sandbox-up; exec sleep 1000");
        string app = await MakeAppBundleAsync("app");
        Annotate(app, "container", sandboxId);
        string missing = Path.Combine(WorkDir, "no-such-dir");
        EditConfig(c => c["mounts"]!.AsArray().Add(new JsonObject
        {
            ["destination"] = "/vol", ["type"] = "bind", ["source"] = missing, ["options"] = new JsonArray("rbind"),
        }), app);
        var sandbox = await CreateAsync(sandboxId);
        Assert.That((await Oci("start", sandboxId)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(sandbox, "sandbox-up");

        var failed = await CreateAsync(appId, app, expectSuccess: false);
        AssertFails(failed.Result, $"bind mount source {missing} does not exist");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, appId)), Is.False, "nothing left of the failed container");
        Assert.That(Directory.EnumerateFileSystemEntries(Path.Combine(StateRoot, sandboxId, "share")).Select(Path.GetFileName),
            Is.EqualTo(new[] { "rootfs" }), "nothing left in the pod's share");
        Assert.That(await StatusAsync(sandboxId), Is.EqualTo("running"));
        Assert.That(Qemus(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task PodContainer_RelayKilled_TheContainerIsKilled()
    {
        var (sandbox, app, _) = await StartPodAsync();

        Native.Kill(app.Pid, 9);
        Assert.That(ReapExit(app), Is.EqualTo(new WaitResult(false, 0, 9)), "the relay was SIGKILLed");
        Assert.That(await WaitForStatusAsync(app.Id, "stopped"), Is.EqualTo("stopped"));
        // The supervisor takes the app's binds out of the share only once the guest reported its exit.
        await Poll.UntilAsync(() => Directory.EnumerateFileSystemEntries(Path.Combine(StateRoot, sandbox.Id, "share")).Count(), n => n == 1,
            StatusDeadline, "the app's entries leave the share");
        Assert.That(await StatusAsync(sandbox.Id), Is.EqualTo("running"));
        Assert.That((await Oci("delete", app.Id)).ExitCode, Is.EqualTo(0));
    }
}
