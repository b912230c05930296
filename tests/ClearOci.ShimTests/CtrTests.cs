namespace ClearOci.ShimTests;

/// <summary>
/// `ctr --runtime io.containerd.clearoci.v2` against a private containerd 1.6: each container
/// runs in a clearoci VM behind containerd-shim-clearoci-v2.
/// </summary>
[TestFixture]
public class CtrTests() : ContainerdFixture(cri: false)
{
    private string Bundle(string id) => Path.Combine(_c.StateDir, "io.containerd.runtime.v2.task", Containerd.Namespace, id);

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";

    private Task RunDetachedAsync(string id, params string[] command) => RunDetachedAsync(id, [], command);

    private async Task RunDetachedAsync(string id, string[] flags, params string[] command)
    {
        _c.Track(id);
        var run = await _c.CtrAsync(["run", "-d", "--runtime", Containerd.Runtime, .. flags, Containerd.Image, id, .. command], Containerd.RunTimeout);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(await _c.WaitForStatusAsync(id, "RUNNING", Deadline), Is.True, $"{id} never RUNNING; {_c.Tail()}");
    }

    private async Task RemoveAsync(string id)
    {
        var kill = await _c.CtrAsync(["task", "kill", "-s", "SIGKILL", id]);
        Assert.That(kill.ExitCode, Is.Zero, kill.ToString());
        Assert.That(await _c.WaitForStatusAsync(id, "STOPPED", Deadline), Is.True, "the task stops after SIGKILL");
        var rm = await _c.CtrAsync(["task", "rm", id]);
        Assert.That(rm.ExitCode, Is.Zero, rm.ToString());
        var crm = await _c.CtrAsync(["container", "rm", id]);
        Assert.That(crm.ExitCode, Is.Zero, crm.ToString());
    }

    [Test]
    public async Task RunRm_OutputAndExitCodeReachCtr_AndNothingIsLeft()
    {
        string id = NewId("rm");
        _c.Track(id);
        var run = await _c.CtrAsync(["run", "--rm", "--runtime", Containerd.Runtime, Containerd.Image, id, "sh", "-c", "echo hello from the VM; echo to-stderr >&2; exit 7"], Containerd.RunTimeout);
        Assert.That(run.ExitCode, Is.EqualTo(7), run.ToString());
        Assert.That(run.Stdout, Does.Contain("hello from the VM"), run.ToString());
        Assert.That(run.Stderr, Does.Contain("to-stderr"), run.ToString());
        Assert.That((await _c.TasksAsync()).ContainsKey(id), Is.False);
        Assert.That(await Tools.PollAsync(() => Task.FromResult(_c.ShimDaemons(id).Count == 0), Deadline), Is.True, "the shim exits after the last Shutdown");
        Assert.That(File.ReadAllText("/proc/self/mountinfo"), Does.Not.Contain($"/{id}/rootfs"), "the rootfs is unmounted");
        Assert.That(File.Exists(ClearOci.Shim.ShimNaming.SocketPath(_c.Address, Containerd.Namespace, id)), Is.False, "the socket is removed");
        Assert.That(await Tools.PollAsync(() => Task.FromResult(!Directory.Exists(Bundle(id))), Deadline), Is.True,
            "containerd removed the bundle, so the shim's `delete` succeeded");
        Assert.That(await _c.WaitForEventAsync("/tasks/delete", id, Deadline), Is.True);
        Assert.That(_c.TopicsFor(id), Is.EqualTo(new[] { "/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete" }), "events in order");
        Assert.That(_c.EventLines.Any(l => l.Contains("/tasks/exit") && l.Contains($"\"{id}\"") && l.Contains("\"exit_status\":7")), Is.True,
            string.Join('\n', _c.EventLines));
    }

    [Test]
    public async Task RunRm_MissingExecutable_FailsWithTheRuntimesMessage_AndLeavesNothing()
    {
        string id = NewId("bad");
        _c.Track(id);
        var run = await _c.CtrAsync(["run", "--rm", "--runtime", Containerd.Runtime, Containerd.Image, id, "/no/such/program"], Containerd.RunTimeout);
        Assert.That(run.ExitCode, Is.Not.Zero, run.ToString());
        Assert.That(run.Stderr, Does.Contain("OCI runtime create failed").And.Contain("/no/such/program"), run.ToString());
        Assert.That((await _c.TasksAsync()).ContainsKey(id), Is.False);
        Assert.That(await Tools.PollAsync(() => Task.FromResult(_c.ShimDaemons(id).Count == 0), Deadline), Is.True, "the shim exits");
        Assert.That(File.ReadAllText("/proc/self/mountinfo"), Does.Not.Contain($"/{id}/rootfs"), "the rootfs is unmounted");
        Assert.That(Directory.Exists(Path.Combine(_c.StateDir, "clearoci", Containerd.Namespace, id)), Is.False, "clearoci's state is gone");
    }

    [Test]
    public async Task RunDetached_ExecThenKillThenRm()
    {
        string id = NewId("exec");
        await RunDetachedAsync(id, "sleep", "1000");
        var exec = await _c.CtrAsync(["task", "exec", "--exec-id", "e1", id, "sh", "-c", "echo from-exec; exit 3"], Containerd.RunTimeout);
        Assert.That(exec.ExitCode, Is.EqualTo(3), exec.ToString());
        Assert.That(exec.Stdout, Does.Contain("from-exec"), exec.ToString());
        var dup = await _c.CtrAsync(["task", "exec", "--exec-id", "e1", id, "true"]);
        Assert.That(await _c.WaitForEventAsync("/tasks/exec-started", "\"e1\"", Deadline), Is.True);
        Assert.That(_c.TopicsFor(id).Take(5), Is.EqualTo(new[] { "/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started", "/tasks/exit" }),
            string.Join('\n', _c.EventLines));
        Assert.That(dup.ExitCode, Is.Zero, "the first exec was deleted, so its id is free again: " + dup);

        // Kill of an exec reaches the guest process, not only its host-side relay.
        var bg = await _c.CtrAsync(["task", "exec", "-d", "--exec-id", "bg", id, "sleep", "999"], Containerd.RunTimeout);
        Assert.That(bg.ExitCode, Is.Zero, bg.ToString());
        var killExec = await _c.CtrAsync(["task", "kill", "--exec-id", "bg", "-s", "SIGKILL", id]);
        Assert.That(killExec.ExitCode, Is.Zero, killExec.ToString());
        Assert.That(await _c.WaitForEventAsync("/tasks/exit", "\"id\":\"bg\"", Deadline), Is.True, "the killed exec exits");
        Assert.That(_c.EventLines.Any(l => l.Contains("\"id\":\"bg\"") && l.Contains("\"exit_status\":137")), Is.True, string.Join('\n', _c.EventLines));
        var ps = await _c.CtrAsync(["task", "exec", "--exec-id", "ps", id, "ps"], Containerd.RunTimeout);
        Assert.That(ps.Stdout, Does.Contain("sleep 1000").And.Not.Contain("sleep 999"), "the guest process is gone: " + ps);
        await RemoveAsync(id);
        Assert.That(await _c.WaitForEventAsync("/tasks/delete", id, Deadline), Is.True);
        Assert.That(_c.EventLines.Any(l => l.Contains("/tasks/exit") && l.Contains($"\"container_id\":\"{id}\",\"id\":\"{id}\"") && l.Contains("\"exit_status\":137")), Is.True,
            string.Join('\n', _c.EventLines));
        Assert.That(await Tools.PollAsync(() => Task.FromResult(_c.ShimDaemons(id).Count == 0), Deadline), Is.True, "the shim exits");
    }

    /// <summary>ctr -t needs a terminal of its own: script(1) gives it one.</summary>
    private async Task<RunResult> InTerminalAsync(string ctrArgs)
    {
        string command = $"/usr/bin/ctr --address {_c.Address} -n {Containerd.Namespace} {ctrArgs}";
        return await Tools.RunAsync("/usr/bin/script", ["-qec", command, "/dev/null"], Containerd.RunTimeout);
    }

    [Test]
    public async Task Terminal_RunAndExecWithTty_GetAPtyAndTheExitCode()
    {
        string id = NewId("tty");
        _c.Track(id);
        var run = await InTerminalAsync($"run --rm -t --runtime {Containerd.Runtime} {Containerd.Image} {id} sh -c 'tty; echo tty-run; exit 3'");
        Assert.That(run.ExitCode, Is.EqualTo(3), run.ToString());
        Assert.That(run.Stdout, Does.Contain("/dev/pts/").And.Contain("tty-run"), run.ToString());

        string d = NewId("ttyexec");
        await RunDetachedAsync(d, "sleep", "1000");
        var exec = await InTerminalAsync($"task exec -t --exec-id t1 {d} sh -c 'tty; echo tty-exec; exit 5'");
        Assert.That(exec.ExitCode, Is.EqualTo(5), exec.ToString());
        Assert.That(exec.Stdout, Does.Contain("/dev/pts/").And.Contain("tty-exec"), exec.ToString());
        await RemoveAsync(d);
    }

    [Test]
    public async Task PauseResume_PsAndMetrics()
    {
        string id = NewId("pause");
        await RunDetachedAsync(id, "sleep", "1000");
        var ps = await _c.CtrAsync(["task", "ps", id]);
        Assert.That(ps.ExitCode, Is.Zero, ps.ToString());
        string pid = (await _c.TasksAsync())[id].Pid;
        Assert.That(ps.Stdout.Split('\n').Skip(1).Any(l => l.StartsWith(pid + " ") || l.Trim().StartsWith(pid)), Is.True, $"task ps lists the task pid {pid}: {ps}");

        var metrics = await _c.CtrAsync(["task", "metrics", id]);
        Assert.That(metrics.ExitCode, Is.Zero, metrics.ToString());
        var usage = metrics.Stdout.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).First(f => f.Length == 2 && f[0] == "memory.usage_in_bytes");
        Assert.That(long.Parse(usage[1]), Is.GreaterThan(0), metrics.ToString());
        Assert.That(metrics.Stdout, Does.Match(@"pids\.current\s+[1-9]"), metrics.ToString());

        var pause = await _c.CtrAsync(["task", "pause", id]);
        Assert.That(pause.ExitCode, Is.Zero, pause.ToString());
        Assert.That((await _c.TasksAsync())[id].Status, Is.EqualTo("PAUSED"));
        var again = await _c.CtrAsync(["task", "pause", id]);
        Assert.That(again.ExitCode, Is.Not.Zero, "pausing a paused task fails: " + again);
        var resume = await _c.CtrAsync(["task", "resume", id]);
        Assert.That(resume.ExitCode, Is.Zero, resume.ToString());
        Assert.That((await _c.TasksAsync())[id].Status, Is.EqualTo("RUNNING"));
        Assert.That(await _c.WaitForEventAsync("/tasks/resumed", id, Deadline), Is.True);
        Assert.That(_c.TopicsFor(id), Does.Contain("/tasks/paused"));
        await RemoveAsync(id);
    }

    [Test]
    public async Task ShimKilled_ContainerdCleansUpWithDelete_AndTheVmGoes()
    {
        string id = NewId("dead");
        await RunDetachedAsync(id, "sleep", "1000");
        var shim = _c.ShimDaemons(id);
        Assert.That(shim, Has.Count.EqualTo(1));
        Assert.That(Tools.FindProcesses("clearoci", "supervise", id), Has.Count.EqualTo(1), "the container's supervisor runs");
        ClearOci.Native.Libc.kill(shim[0], 9);
        Assert.That(await _c.WaitForEventAsync("/tasks/exit", id, Deadline), Is.True, "containerd publishes the exit for the lost shim");
        Assert.That(await Tools.PollAsync(() => Task.FromResult(Tools.FindProcesses("clearoci", "supervise", id).Count == 0), Deadline), Is.True,
            "`delete` force-deleted the container: its supervisor (and VM) are gone");
        Assert.That(await Tools.PollAsync(() => Task.FromResult(!File.ReadAllText("/proc/self/mountinfo").Contains($"/{id}/rootfs")), Deadline), Is.True, "rootfs unmounted");
        Assert.That(await Tools.PollAsync(async () => !(await _c.TasksAsync()).TryGetValue(id, out var t) || t.Status == "STOPPED", Deadline), Is.True,
            "the task is stopped or gone");
        await _c.CtrAsync(["task", "rm", id]);
        var crm = await _c.CtrAsync(["container", "rm", id]);
        Assert.That(crm.ExitCode, Is.Zero, crm.ToString());
    }

    [Test]
    public async Task ContainerdRestart_ReconnectsToTheLiveShim()
    {
        string id = NewId("restart");
        await RunDetachedAsync(id, "sleep", "1000");
        string pid = (await _c.TasksAsync())[id].Pid;
        var shims = _c.ShimDaemons(id);
        Assert.That(shims, Has.Count.EqualTo(1));
        await _c.StopDaemonAsync();
        await _c.StartDaemonAsync();
        var tasks = await _c.TasksAsync();
        Assert.That(tasks.ContainsKey(id), Is.True, "the task is still known after the restart");
        Assert.That(tasks[id], Is.EqualTo((pid, "RUNNING")), "same pid, still running");
        Assert.That(_c.ShimDaemons(id), Is.EqualTo(shims), "the same shim serves it");
        var exec = await _c.CtrAsync(["task", "exec", "--exec-id", "after", id, "sh", "-c", "echo reconnected"], Containerd.RunTimeout);
        Assert.That(exec.Stdout, Does.Contain("reconnected"), exec.ToString());
        await RemoveAsync(id);
        Assert.That(await _c.WaitForEventAsync("/tasks/delete", id, Deadline), Is.True, "events reach the new containerd");
    }

    [Test]
    public async Task SameSandboxIdAnnotation_SharesOneShimAndOneVm_UntilTheLastContainerGoes()
    {
        string pod = NewId("pod"), app = NewId("app");
        string[] annotation = ["--annotation", $"io.kubernetes.cri.sandbox-id={pod}"];
        await RunDetachedAsync(pod, [.. annotation, "--annotation", "io.kubernetes.cri.container-type=sandbox"], "sleep", "1000");
        await RunDetachedAsync(app, [.. annotation, "--annotation", "io.kubernetes.cri.container-type=container"], "sleep", "1000");
        Assert.That(Tools.FindProcesses("qemu-system", $"clearoci-{pod} "), Has.Count.EqualTo(1), "the pod's VM");
        Assert.That(Tools.FindProcesses("qemu-system", $"clearoci-{app} "), Is.Empty, "the app container runs in the pod's VM");
        string Address(string id) => File.ReadAllText(Path.Combine(_c.StateDir, "io.containerd.runtime.v2.task", Containerd.Namespace, id, "address"));
        Assert.That(Address(app), Is.EqualTo(Address(pod)), "both tasks name the pod's socket");
        Assert.That(Address(pod), Is.EqualTo("unix://" + ClearOci.Shim.ShimNaming.SocketPath(_c.Address, Containerd.Namespace, pod)));
        var shims = _c.ShimDaemons(pod);
        Assert.That(shims, Has.Count.EqualTo(1), "one shim daemon for the pod");
        Assert.That(_c.ShimDaemons(app), Is.Empty, "and none for the app container");

        await RemoveAsync(app);
        Assert.That((await _c.TasksAsync())[pod].Status, Is.EqualTo("RUNNING"), "removing the app container leaves the pod running");
        Assert.That(_c.ShimDaemons(pod), Is.EqualTo(shims), "the shim stays while the pod container lives");
        var exec = await _c.CtrAsync(["task", "exec", "--exec-id", "x", pod, "echo", "still-served"], Containerd.RunTimeout);
        Assert.That(exec.Stdout, Does.Contain("still-served"), exec.ToString());
        Assert.That(Tools.FindProcesses("qemu-system", $"clearoci-{pod} "), Has.Count.EqualTo(1), "the pod's VM stays while the pod container lives");

        await RemoveAsync(pod);
        Assert.That(await Tools.PollAsync(() => Task.FromResult(_c.ShimDaemons(pod).Count == 0), Deadline), Is.True, "the shim exits with its last container");
    }
}
