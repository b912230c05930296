using System.Diagnostics;

namespace ClearOci.EngineTests;

/// <summary>
/// What a user does with docker or podman, with ClearOci as the runtime. One private engine set-up
/// per fixture (OneTimeSetUp); each test names its containers and TearDown removes them. The
/// scenarios are shared; each engine's fixture has thin [Test] methods so a [KnownBug] can differ
/// per engine. One container checks several things where that saves a VM boot.
/// </summary>
public abstract class EngineScenarios
{
    protected static readonly string Image = EngineEnvironment.Image;
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    /// <summary>A long-running container that reports TERM and USR1 and shows it started.</summary>
    protected const string Looper = "trap 'echo got-usr1' USR1; trap 'echo got-term' TERM; echo started; while true; do sleep 0.1; done";

    private readonly List<string> _names = [];
    private readonly List<string> _dirs = [];
    private int _next;

    protected EngineEnvironment Env { get; private set; } = null!;

    /// <summary>"docker" or "podman" (the wrapper in the environment's directory).</summary>
    protected abstract string EngineName { get; }

    /// <summary>The `run` words that select ClearOci (docker: --runtime clearoci; podman: its configured default).</summary>
    protected abstract string[] RunClearOci { get; }

    /// <summary>The `run` words that select runc, for side-by-side checks.</summary>
    protected abstract string[] RunRunc { get; }

    protected Task<CliResult> Engine(params string[] args) => EngineName == "docker" ? Env.Docker(args) : Env.Podman(args);

    protected Task<CliResult> Run(params string[] args) => Engine([.. RunClearOci, .. args]);

    [OneTimeSetUp]
    public async Task StartEngines() => Env = await EngineEnvironment.StartAsync();

    [OneTimeTearDown]
    public async Task StopEngines()
    {
        if (Env != null) await Env.StopAsync();
    }

    /// <summary>A unique container (or network) name, removed in TearDown.</summary>
    protected string NewName(string tag = "c")
    {
        string name = $"{tag}{_next++}-{Guid.NewGuid().ToString("N")[..6]}";
        _names.Add(name);
        return name;
    }

    /// <summary>A host directory for a bind mount, removed in TearDown.</summary>
    protected string NewHostDir()
    {
        string dir = Path.Combine("/tmp", $"coe-bind-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        _dirs.Add(dir);
        return dir;
    }

    [TearDown]
    public async Task RemoveContainers()
    {
        var problems = new List<string>();
        foreach (var name in _names)
        {
            var ps = await Engine("ps", "-aq", "--filter", $"name=^{name}$");
            if (ps.Stdout.Trim().Length == 0) continue;
            var rm = await Engine("rm", "-f", name);
            if (rm.ExitCode != 0) problems.Add($"rm -f {name}: {rm}");
        }
        _names.Clear();
        foreach (var dir in _dirs) if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        _dirs.Clear();
        if (problems.Count > 0) Assert.Fail(string.Join("\n", problems));
    }

    protected static CliResult Ok(CliResult r)
    {
        Assert.That(r.ExitCode, Is.EqualTo(0), $"expected success: {r}");
        return r;
    }

    protected async Task<string> InspectAsync(string name, string format) => Ok(await Engine("inspect", "-f", format, name)).Stdout.Trim();

    protected Task<CliResult> WaitForLogAsync(string name, string text, int count = 1) =>
        Poll.UntilAsync(() => Engine("logs", name), r => CountOf(r.Stdout + r.Stderr, text) >= count, Deadline,
            $"{EngineName} logs {name}: \"{text}\" x{count}");

    protected static int CountOf(string haystack, string needle)
    {
        int n = 0;
        for (int i = haystack.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = haystack.IndexOf(needle, i + needle.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>Starts the <see cref="Looper"/> detached and waits for "started".</summary>
    protected async Task<string> StartLooperAsync(params string[] runArgs)
    {
        string name = NewName();
        Ok(await Run(["-d", "--name", name, .. runArgs, Image, "sh", "-c", Looper]));
        await WaitForLogAsync(name, "started");
        return name;
    }

    // ---- scenarios ----

    /// <summary>`run --rm` with -e, --user, --workdir, --hostname: output on both streams, the exit code.</summary>
    protected async Task RunRemove_OutputAndProcessSettingsAndExitCode()
    {
        var r = await Run("--rm", "-e", "GREETING=hello", "--user", "1000:1000", "--workdir", "/tmp", "--hostname", "box1", Image,
            "sh", "-c", "echo \"$GREETING $(id -u):$(id -g) $(pwd) $(hostname)\"; echo to-stderr >&2; exit 7");
        Assert.That(r.ExitCode, Is.EqualTo(7), $"the container's exit code: {r}");
        Assert.That(r.Stdout, Does.Contain("hello 1000:1000 /tmp box1"), r.ToString());
        Assert.That(r.Stderr, Does.Contain("to-stderr"), r.ToString());
    }

    /// <summary>
    /// One detached container through its life: logs, exec (output and exit code), kill -s USR1,
    /// top, pause/unpause, update --memory --cpus (the limit bites), restart, rm -f.
    /// </summary>
    protected async Task Detached_LogsExecKillTopPauseUpdateRestartRemove()
    {
        string name = await StartLooperAsync();
        Assert.That(await InspectAsync(name, EngineName == "docker" ? "{{.HostConfig.Runtime}}" : "{{.OCIRuntime}}"), Is.EqualTo("clearoci"),
            "the container runs on ClearOci");

        var exec = await Engine("exec", name, "sh", "-c", "echo from-exec; echo exec-err >&2; exit 5");
        Assert.That(exec.ExitCode, Is.EqualTo(5), $"exec's exit code: {exec}");
        Assert.That(exec.Stdout, Does.Contain("from-exec"), exec.ToString());
        Assert.That(exec.Stderr, Does.Contain("exec-err"), exec.ToString());

        Ok(await Engine("kill", "-s", "USR1", name));
        await WaitForLogAsync(name, "got-usr1");
        Assert.That(await InspectAsync(name, "{{.State.Running}}"), Is.EqualTo("true"), "USR1 is caught: the container keeps running");

        var top = Ok(await Engine("top", name));
        Assert.That(top.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.GreaterThanOrEqualTo(2), $"top lists a header and a process: {top}");

        Ok(await Engine("pause", name));
        Assert.That(await InspectAsync(name, "{{.State.Paused}}"), Is.EqualTo("true"));
        Ok(await Engine("unpause", name));
        Assert.That(await InspectAsync(name, "{{.State.Paused}}"), Is.EqualTo("false"));
        Assert.That(Ok(await Engine("exec", name, "echo", "after-unpause")).Stdout, Does.Contain("after-unpause"), "the VM runs again");

        // A 48 MiB allocation fits before `update --memory 32m` and is OOM-killed after.
        string[] allocate = ["exec", name, "dd", "if=/dev/zero", "of=/dev/null", "bs=48M", "count=1"];
        Ok(await Engine(allocate));
        Ok(await Engine("update", "--memory", "32m", "--memory-swap", "32m", "--cpus", "0.5", name));
        var after = await Engine(allocate);
        Assert.That(after.ExitCode, Is.EqualTo(137), $"48 MiB no longer fits in 32 MiB: {after}");
        if (EngineName == "docker") // podman 4.3's inspect does not show updates (with runc neither)
        {
            Assert.That(await InspectAsync(name, "{{.HostConfig.Memory}}"), Is.EqualTo("33554432"));
            Assert.That(await InspectAsync(name, "{{.HostConfig.NanoCpus}}"), Is.EqualTo("500000000"));
        }

        string started = await InspectAsync(name, "{{.State.StartedAt}}");
        Ok(await Engine("restart", "-t", "1", name));
        await WaitForLogAsync(name, "started", count: 2);
        Assert.That(await InspectAsync(name, "{{.State.Running}}"), Is.EqualTo("true"), "running again after restart");
        Assert.That(await InspectAsync(name, "{{.State.StartedAt}}"), Is.Not.EqualTo(started), "a new start");

        Ok(await Engine("rm", "-f", name));
        Assert.That((await Engine("ps", "-aq", "--filter", $"name=^{name}$")).Stdout.Trim(), Is.Empty, "gone after rm -f");
    }

    /// <summary>`stop -t 2` of a container that catches SIGTERM: TERM first, SIGKILL after the timeout (exit 137).</summary>
    protected async Task Stop_TermThenKillAfterTimeout()
    {
        string name = await StartLooperAsync();
        var clock = Stopwatch.StartNew();
        Ok(await Engine("stop", "-t", "2", name));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)), "SIGKILL only after the 2 s timeout");
        await WaitForLogAsync(name, "got-term");
        Assert.That(await InspectAsync(name, "{{.State.ExitCode}}"), Is.EqualTo("137"), "killed by SIGKILL");
    }

    /// <summary>`run -it` and `exec -it` through a pty (`script`): the process has a terminal; exit codes pass through.</summary>
    protected async Task Terminal_RunItAndExecIt()
    {
        var run = await EngineEnvironment.OnPty([Path.Combine(Env.Dir, EngineName), .. RunClearOci, "-it", "--rm", Image, "sh", "-c", "tty; echo sum-$((3+4)); exit 3"]);
        Assert.That(run.ExitCode, Is.EqualTo(3), $"run -it's exit code: {run}");
        Assert.That(run.Stdout, Does.Contain("/dev/pts/").And.Contain("sum-7"), run.ToString());

        string name = await StartLooperAsync();
        var exec = await EngineEnvironment.OnPty(Path.Combine(Env.Dir, EngineName), "exec", "-it", name, "sh", "-c", "tty; echo in-exec; exit 4");
        Assert.That(exec.ExitCode, Is.EqualTo(4), $"exec -it's exit code: {exec}");
        Assert.That(exec.Stdout, Does.Contain("/dev/pts/").And.Contain("in-exec"), exec.ToString());
    }

    /// <summary>`--read-only --tmpfs /scratch`: the root refuses writes, the tmpfs takes them.</summary>
    protected async Task ReadOnlyRoot_WithTmpfs()
    {
        var r = Ok(await Run("--rm", "--read-only", "--tmpfs", "/scratch", Image, "sh", "-c",
            "if touch /rootfile 2>/dev/null; then echo root-writable; else echo root-readonly; fi; touch /scratch/f && echo tmpfs-writable; grep ' /scratch ' /proc/mounts"));
        Assert.That(r.Stdout, Does.Contain("root-readonly").And.Contain("tmpfs-writable").And.Contain("tmpfs"), r.ToString());
    }

    /// <summary>`-v HOSTDIR:/data`: the container reads what the host wrote and the host reads what the container wrote.</summary>
    protected async Task BindMount_ReadAndWriteFromBothSides()
    {
        string dir = NewHostDir();
        File.WriteAllText(Path.Combine(dir, "in.txt"), "from-host\n");
        var r = Ok(await Run("--rm", "-v", $"{dir}:/data", Image, "sh", "-c", "cat /data/in.txt; echo from-container > /data/out.txt"));
        Assert.That(r.Stdout, Does.Contain("from-host"), r.ToString());
        string outFile = Path.Combine(dir, "out.txt");
        Assert.That(File.Exists(outFile) ? File.ReadAllText(outFile) : "(no file)", Is.EqualTo("from-container\n"), "the host sees the container's write");
    }

    /// <summary>`--ulimit nofile=1024:2048` (podman: with nproc too, since any --ulimit replaces its defaults).</summary>
    protected async Task Ulimit_Applied(params string[] extra)
    {
        var r = Ok(await Run(["--rm", "--ulimit", "nofile=1024:2048", .. extra, Image, "sh", "-c", "echo nofile $(ulimit -Sn) $(ulimit -Hn)"]));
        Assert.That(r.Stdout, Does.Contain("nofile 1024 2048"), r.ToString());
    }

    /// <summary>`--cap-drop ALL --cap-add CHOWN --cap-add KILL`: exactly those two effective (bits 0 and 5).</summary>
    protected async Task Capabilities_DropAllAddTwo()
    {
        var r = Ok(await Run("--rm", "--cap-drop", "ALL", "--cap-add", "CHOWN", "--cap-add", "KILL", Image, "sh", "-c", "grep CapEff /proc/self/status"));
        Assert.That(r.Stdout, Does.Match(@"CapEff:\s+0000000000000021"), r.ToString());
    }

    /// <summary>
    /// A failed start (the executable does not exist): the user sees ClearOci's message, and the
    /// same exit code as with runc.
    /// </summary>
    protected async Task FailedStart_ShowsClearOciErrorWithRuncExitCode()
    {
        var runc = await Engine([.. RunRunc, "--rm", Image, "/nonexistent-binary"]);
        var ours = await Run("--rm", Image, "/nonexistent-binary");
        Assert.That(runc.ExitCode, Is.Not.EqualTo(0), $"runc: {runc}");
        Assert.That(ours.ExitCode, Is.EqualTo(runc.ExitCode), $"the exit code runc gives ({runc.ExitCode}): {ours}");
        Assert.That(ours.Stderr, Does.Contain("/nonexistent-binary"), $"ClearOci's message reaches the user: {ours}");
        Assert.That(ours.Stderr, Does.Not.Contain("unable to retrieve OCI runtime error").And.Not.Contain("no logs from conmon"),
            $"the message comes from the runtime's log: {ours}");
    }

    /// <summary>Two containers on one user-defined network: the client reaches the server by its name.</summary>
    protected async Task UserDefinedNetwork_ContainersReachEachOtherByName()
    {
        string net = NewName("net"), server = NewName("srv");
        Ok(await Engine("network", "create", net));
        try
        {
            Ok(await Run("-d", "--name", server, "--network", net, Image, "sh", "-c", Httpd));
            // The client polls (bounded) until the server's httpd is up. nc, not wget: busybox-static's
            // wget crashes (segfault) under runc as well.
            var r = await Run("--rm", "--network", net, Image, "sh", "-c",
                $"i=0; while [ $i -lt 60 ]; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {server} 80 | grep hello && exit 0; i=$((i+1)); sleep 0.5; done; exit 1");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
            Assert.That(r.Stdout, Does.Contain("hello-from-httpd"), r.ToString());
        }
        finally
        {
            // The server first: a network with a container on it cannot be removed.
            await Engine("rm", "-f", server);
            await Engine("network", "rm", net);
        }
    }

    /// <summary>Polls an HTTP GET from inside the engines' network namespace until it answers <paramref name="text"/>.</summary>
    protected Task<CliResult> WaitForHttpAsync(string url, string text) =>
        // python3, not busybox wget: the static busybox's wget crashes on the host (its resolver).
        Poll.UntilAsync(() => Env.InNamespaces("python3", "-c", HttpGet, url),
            r => r.ExitCode == 0 && r.Stdout.Contains(text),
            TimeSpan.FromSeconds(60), $"GET {url} answers \"{text}\"");

    private const string HttpGet = """
        import sys, urllib.request
        try: print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())
        except Exception as e: sys.exit(f"GET failed: {e!r}")
        """;

    protected const string Httpd = "mkdir -p /www && echo hello-from-httpd > /www/index.html && exec httpd -f -p 80 -h /www";
}
