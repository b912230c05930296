using ClearOci.Shim;

namespace ClearOci.ShimTests;

/// <summary>
/// The shim's errors reach containerd with their codes, which ctr prints as errdefs classes
/// ("...: not found"); and the shim runs the runtime in-process: no clearoci CLI runs for a
/// create or an exec, and a task's only children are its supervisor and its exec relays.
/// </summary>
[TestFixture]
public class ErrorCodeShimTests() : ContainerdFixture(cri: false)
{
    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";

    private async Task RunDetachedAsync(string id, params string[] command)
    {
        _c.Track(id);
        var run = await _c.CtrAsync(["run", "-d", "--runtime", Containerd.Runtime, Containerd.Image, id, .. command], Containerd.RunTimeout);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(await _c.WaitForStatusAsync(id, "RUNNING", Deadline), Is.True, $"{id} never RUNNING; {_c.Tail()}");
    }

    /// <summary>Best effort, also after a failed assertion: the task and container go.</summary>
    private async Task RemoveAsync(string id)
    {
        if ((await _c.TasksAsync()).ContainsKey(id))
        {
            await _c.CtrAsync(["task", "kill", "-s", "SIGKILL", id]);
            await Tools.PollAsync(async () => !(await _c.TasksAsync()).TryGetValue(id, out var t) || t.Status == "STOPPED", Deadline);
            await _c.CtrAsync(["task", "rm", "-f", id]);
        }
        await _c.CtrAsync(["container", "rm", id]);
    }

    private static void AssertFails(RunResult r, string errdefsClass)
    {
        Assert.That(r.ExitCode, Is.Not.Zero, r.ToString());
        Assert.That(r.Stderr.TrimEnd(), Does.EndWith(": " + errdefsClass), r.ToString());
    }

    [Test]
    public async Task Create_OfAnIdClearOciAlreadyHas_FailsWithAlreadyExists()
    {
        string id = NewId("dup");
        _c.Track(id);
        // clearoci state under the task's id that this shim does not host (a leftover).
        string leftover = Path.Combine(_c.StateDir, "clearoci", Containerd.Namespace, id);
        Directory.CreateDirectory(leftover);
        try
        {
            var run = await _c.CtrAsync(["run", "--rm", "--runtime", Containerd.Runtime, Containerd.Image, id, "true"], Containerd.RunTimeout);
            AssertFails(run, "already exists");
            Assert.That(run.Stderr, Does.Contain("container with id exists"), run.ToString());
            Assert.That((await _c.TasksAsync()).ContainsKey(id), Is.False);
            Assert.That(Tools.FindProcesses("clearoci", "supervise", id), Is.Empty, "no VM was started");
            Assert.That(await Tools.PollAsync(() => Task.FromResult(_c.ShimDaemons(id).Count == 0), Deadline), Is.True, "the shim exits");
            Assert.That(File.ReadAllText("/proc/self/mountinfo"), Does.Not.Contain($"/{id}/rootfs"), "the rootfs is unmounted");
        }
        finally
        {
            if (Directory.Exists(leftover)) Directory.Delete(leftover, recursive: true);
            await _c.CtrAsync(["container", "rm", id]);
        }
    }

    [Test]
    public async Task Create_WithARelativeCwd_FailsWithInvalidArgument_BeforeAnyVm()
    {
        string id = NewId("cwd");
        _c.Track(id);
        try
        {
            var run = await _c.CtrAsync(["run", "--rm", "--runtime", Containerd.Runtime, "--cwd", "relative/dir", Containerd.Image, id, "true"], Containerd.RunTimeout);
            AssertFails(run, "invalid argument");
            Assert.That(run.Stderr, Does.Contain("OCI runtime create failed").And.Contain("is not an absolute path"), run.ToString());
            Assert.That(await Tools.PollAsync(() => Task.FromResult(_c.ShimDaemons(id).Count == 0), Deadline), Is.True, "the shim exits");
            Assert.That(Directory.Exists(Path.Combine(_c.StateDir, "clearoci", Containerd.Namespace, id)), Is.False, "no clearoci state");
        }
        finally { await _c.CtrAsync(["container", "rm", id]); }
    }

    [Test]
    public async Task Create_WithAnUnknownSeccompAction_FailsWithInvalidArgument_FromTheRuntime()
    {
        // ClearOci refuses the action while it loads the config (Lifecycle.Create, in the shim);
        // runc refuses it too ("invalid action").
        string id = NewId("seccomp");
        _c.Track(id);
        string profile = Path.Combine(_c.Dir, $"{id}.json");
        File.WriteAllText(profile, """{"defaultAction":"SCMP_ACT_NOPE","syscalls":[]}""");
        try
        {
            var run = await _c.CtrAsync(["run", "--rm", "--runtime", Containerd.Runtime, "--seccomp", "--seccomp-profile", profile, Containerd.Image, id, "true"],
                Containerd.RunTimeout);
            AssertFails(run, "invalid argument");
            Assert.That(run.Stderr, Does.Contain("OCI runtime create failed").And.Contain("unknown seccomp action").And.Contain("SCMP_ACT_NOPE"), run.ToString());
            Assert.That(Tools.FindProcesses("clearoci", "supervise", id), Is.Empty, "no VM was started");
            Assert.That(await Tools.PollAsync(() => Task.FromResult(_c.ShimDaemons(id).Count == 0), Deadline), Is.True, "the shim exits");
            Assert.That(Directory.Exists(Path.Combine(_c.StateDir, "clearoci", Containerd.Namespace, id)), Is.False, "no clearoci state");
            Assert.That(File.ReadAllText("/proc/self/mountinfo"), Does.Not.Contain($"/{id}/rootfs"), "the rootfs is unmounted");
        }
        finally
        {
            File.Delete(profile);
            await _c.CtrAsync(["container", "rm", id]);
        }
    }

    [Test]
    public async Task ExecStart_OfAProgramTheGuestDoesNotHave_FailsWithClearOcisAgentCode_AndTheTaskRunsOn()
    {
        string id = NewId("noprog");
        await RunDetachedAsync(id, "sleep", "1000");
        try
        {
            // The guest's exec stage reports the failure (runc's words) to the agent as a message
            // only, so clearoci's code is Agent, which the shim answers Unknown (as the runc shim
            // reports runc's exec failures); it comes back over the relay's ready pipe.
            var exec = await _c.CtrAsync(["task", "exec", "--exec-id", "missing", id, "no-such-program"], Containerd.RunTimeout);
            AssertFails(exec, "unknown");
            Assert.That(exec.Stderr, Does.Contain("OCI runtime exec failed").And.Contain("\"no-such-program\": executable file not found in $PATH"), exec.ToString());
            var shims = _c.ShimDaemons(id);
            Assert.That(shims, Has.Count.EqualTo(1));
            Assert.That(await Tools.PollAsync(() => Task.FromResult(!Processes().Any(p => p.PPid == shims[0] && p.Cmdline.Contains(" exec "))), Deadline), Is.True,
                "no exec relay is left behind");
            var ok = await _c.CtrAsync(["task", "exec", "--exec-id", "after", id, "echo", "still-here"], Containerd.RunTimeout);
            Assert.That((ok.ExitCode, ok.Stdout.Trim()), Is.EqualTo((0, "still-here")), ok.ToString());
        }
        finally { await RemoveAsync(id); }
    }

    [Test]
    public async Task RunningAndStoppedTask_WrongRequests_FailWithTheirCodes()
    {
        string id = NewId("codes");
        await RunDetachedAsync(id, "sleep", "1000");
        try
        {
            AssertFails(await _c.CtrAsync(["task", "kill", "--exec-id", "nope", id]), "not found");
            AssertFails(await _c.CtrAsync(["task", "exec", "--exec-id", "rel", "--cwd", "relative", id, "true"], Containerd.RunTimeout), "invalid argument");

            // Pausing a paused task: ClearOci's transition rule (InvalidState), in-process.
            var pause = await _c.CtrAsync(["task", "pause", id]);
            Assert.That(pause.ExitCode, Is.Zero, pause.ToString());
            var again = await _c.CtrAsync(["task", "pause", id]);
            AssertFails(again, "failed precondition");
            Assert.That(again.Stderr, Does.Contain("already paused"), again.ToString());
            var resume = await _c.CtrAsync(["task", "resume", id]);
            Assert.That(resume.ExitCode, Is.Zero, resume.ToString());

            // Bad resources: ctr 1.6 has no `task update`, so the call goes to the shim's socket as containerd sends it.
            await using (var shim = await TtrpcClient.ConnectAsync(ShimNaming.SocketPath(_c.Address, Containerd.Namespace, id)))
            {
                byte[] bad = """{"devices":[{"allow":true,"access":"xyz"}]}"""u8.ToArray();
                byte[] update = new ProtoWriter().String(1, id).Message(2, new ProtoWriter().String(1, "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources").Bytes(2, bad)).ToArray();
                var e = Assert.ThrowsAsync<RpcException>(() => shim.CallAsync(new TtrpcRequest("containerd.task.v2.Task", "Update", update, 0,
                    [new("containerd-namespace-ttrpc", Containerd.Namespace)])));
                Assert.That(e!.Code, Is.EqualTo(RpcCode.InvalidArgument), e.Message);
                Assert.That(e.Message, Does.Contain("access"), e.Message);
            }

            var kill = await _c.CtrAsync(["task", "kill", "-s", "SIGKILL", id]);
            Assert.That(kill.ExitCode, Is.Zero, kill.ToString());
            Assert.That(await _c.WaitForStatusAsync(id, "STOPPED", Deadline), Is.True, "the task stops after SIGKILL");
            AssertFails(await _c.CtrAsync(["task", "exec", "--exec-id", "late", id, "true"], Containerd.RunTimeout), "failed precondition");
            AssertFails(await _c.CtrAsync(["task", "kill", id]), "not found");

            var rm = await _c.CtrAsync(["task", "rm", id]);
            Assert.That(rm.ExitCode, Is.Zero, rm.ToString());
            AssertFails(await _c.CtrAsync(["task", "kill", id]), "not found");
        }
        finally { await RemoveAsync(id); }
    }

    /// <summary>(pid, ppid, cmdline) of every live process.</summary>
    private static List<(int Pid, int PPid, string Cmdline)> Processes()
    {
        var list = new List<(int, int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                list.Add((pid, ppid, File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim()));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        return list;
    }

    /// <summary>
    /// Samples every process until <paramref name="ct"/> fires: the clearoci command lines seen
    /// (argv[0] "clearoci"), so a test can tell which ones ran while a create or an exec was on.
    /// </summary>
    private static async Task<HashSet<string>> WatchClearOciAsync(CancellationToken ct)
    {
        var seen = new HashSet<string>();
        while (true)
        {
            foreach (var p in Processes())
                if (Path.GetFileName(p.Cmdline.Split(' ')[0]) == "clearoci") seen.Add(p.Cmdline);
            try { await Task.Delay(20, ct); }
            catch (OperationCanceledException) { return seen; }
        }
    }

    /// <summary>The CLI verbs the shim used to run per create and exec (`clearoci create`, `clearoci exec --detach`).</summary>
    private static bool IsCreateOrDetachedExecCli(string cmdline)
    {
        var args = cmdline.Split(' ');
        return args.Contains("create") || args.Contains("--detach");
    }

    [Test]
    public async Task RunningTask_TheShimsOnlyChildren_AreTheSupervisorAndExecRelays()
    {
        string id = NewId("kids");
        using var stop = new CancellationTokenSource();
        var watch = WatchClearOciAsync(stop.Token);
        try
        {
            try
            {
                await RunDetachedAsync(id, "sleep", "1000");
                var bg = await _c.CtrAsync(["task", "exec", "-d", "--exec-id", "bg", id, "sleep", "999"], Containerd.RunTimeout);
                Assert.That(bg.ExitCode, Is.Zero, bg.ToString());
            }
            finally { stop.Cancel(); }
            var seen = await watch;
            string seenList = string.Join("\n", seen);
            Assert.That(seen.Any(c => c.Contains(" supervise ") && c.EndsWith(" " + id)), Is.True, "the sampling saw the supervisor:\n" + seenList);
            Assert.That(seen.Where(IsCreateOrDetachedExecCli), Is.Empty, "create and exec are in-process: no `clearoci create`, no `clearoci exec --detach`:\n" + seenList);
            // Calls that used to run a clearoci CLI each; now in-process.
            foreach (var args in new[] { new[] { "task", "metrics", id }, ["task", "ps", id], ["task", "pause", id], ["task", "resume", id] })
            {
                var r = await _c.CtrAsync(args);
                Assert.That(r.ExitCode, Is.Zero, r.ToString());
            }
            var shims = _c.ShimDaemons(id);
            Assert.That(shims, Has.Count.EqualTo(1));
            var all = Processes();
            var children = all.Where(p => p.PPid == shims[0]).ToList();
            string listing = string.Join('\n', children.Select(c => $"{c.Pid}: {c.Cmdline}"));
            Assert.That(children.Count(c => c.Cmdline.Contains(" supervise ") && c.Cmdline.EndsWith(" " + id)), Is.EqualTo(1), "the supervisor:\n" + listing);
            Assert.That(children.Count(c => c.Cmdline.Contains(" exec ") && c.Cmdline.Contains("--ready-fd") && c.Cmdline.EndsWith(" " + id)), Is.EqualTo(1), "the exec relay:\n" + listing);
            Assert.That(children, Has.Count.EqualTo(2), "nothing else: no `clearoci events`, no other clearoci CLI:\n" + listing);
            Assert.That(all.Where(p => p.Cmdline.Contains("clearoci") && p.Cmdline.Contains(" events ") && p.Cmdline.Contains(id)), Is.Empty, "no `clearoci events` anywhere");
        }
        finally { await RemoveAsync(id); }
    }
}
