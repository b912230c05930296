using System.Collections.Concurrent;
using System.Diagnostics;
using ClearOci.Native;

namespace ClearOci.ShimTests;

/// <summary>
/// A private containerd (config as in shared/spec/engines.md): its own root, state, sockets and
/// opt dir (whose bin/ holds the shim, so `io.containerd.clearoci.v2` resolves to this checkout's
/// build), a namespace of its own, and `ctr events` recording every event. Dispose stops it by pid
/// and removes everything, mounts included.
/// </summary>
public sealed class Containerd : IAsyncDisposable
{
    public const string Runtime = "io.containerd.clearoci.v2";
    public const string Namespace = "shimtest";
    public const string Image = "docker.io/clearoci/busybox:latest";
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(240);

    private Process? _daemon;
    private Process? _events;
    private readonly bool _cri;
    public ConcurrentQueue<string> EventLines { get; } = new();

    public string Dir { get; }
    public string Address => Path.Combine(Dir, "containerd.sock");
    public string StateDir => Path.Combine(Dir, "state");
    public string Config => Path.Combine(Dir, "config.toml");
    public string Log => Path.Combine(Dir, "containerd.log");

    private Containerd(bool cri)
    {
        _cri = cri;
        Dir = Path.Combine("/tmp", "cos-" + Guid.NewGuid().ToString("N")[..8]);
    }

    public static async Task<Containerd> StartAsync(bool cri = false)
    {
        foreach (var tool in new[] { "/usr/bin/containerd", "/usr/bin/ctr" })
            if (!File.Exists(tool)) Assert.Ignore($"{tool} is needed (apt-get install containerd)");
        if (!File.Exists(Tools.Shim)) Assert.Ignore($"{Tools.Shim} is missing: run `make build`");
        var c = new Containerd(cri);
        try
        {
            await c.LaunchAsync();
            BusyboxImage.Write(Path.Combine(c.Dir, "busybox.tar"));
            var import = await c.CtrAsync(["images", "import", "--base-name", "docker.io/clearoci/busybox", Path.Combine(c.Dir, "busybox.tar")]);
            Assert.That(import.ExitCode, Is.Zero, import.ToString());
            if (cri)
            {
                // The CRI plugin's images live in k8s.io: busybox, and a sandbox ("pause") image that keeps running.
                BusyboxImage.Write(Path.Combine(c.Dir, "pause.tar"), "[\"sleep\",\"1000000\"]");
                foreach (var (name, tar) in new[] { ("docker.io/clearoci/busybox", "busybox.tar"), ("docker.io/clearoci/pause", "pause.tar") })
                {
                    var r = await c.CtrAsync(["images", "import", "--base-name", name, Path.Combine(c.Dir, tar)], ns: "k8s.io");
                    Assert.That(r.ExitCode, Is.Zero, r.ToString());
                }
                // The CRI plugin loads its image list at start.
                await c.StopDaemonAsync();
                await c.StartDaemonAsync();
            }
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    private async Task LaunchAsync()
    {
        Directory.CreateDirectory(Path.Combine(Dir, "opt", "bin"));
        File.CreateSymbolicLink(Path.Combine(Dir, "opt", "bin", "containerd-shim-clearoci-v2"), Tools.Shim);
        string disabled = _cri ? "" : "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n";
        string criSection = !_cri ? "" : $"""

            [plugins."io.containerd.grpc.v1.cri"]
              sandbox_image = "docker.io/clearoci/pause:latest"
              enable_selinux = false
              disable_cgroup = true
              disable_apparmor = true
              restrict_oom_score_adj = true
              [plugins."io.containerd.grpc.v1.cri".cni]
                bin_dir = "{Dir}/cni/bin"
                conf_dir = "{Dir}/cni/conf"
              [plugins."io.containerd.grpc.v1.cri".containerd]
                default_runtime_name = "clearoci"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.clearoci]
                  runtime_type = "{Runtime}"
            """;
        File.WriteAllText(Config, $"""
            version = 2
            root = "{Dir}/root"
            state = "{StateDir}"
            {disabled}
            [grpc]
              address = "{Address}"
            [ttrpc]
              address = "{Address}.ttrpc"
            [debug]
              level = "debug"
            [plugins."io.containerd.internal.v1.opt"]
              path = "{Dir}/opt"
            {criSection}
            """);
        await StartDaemonAsync();
    }

    /// <summary>Starts (or restarts) containerd on the same config and waits until ctr reaches it.</summary>
    public async Task StartDaemonAsync()
    {
        var psi = new ProcessStartInfo("/usr/bin/containerd") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Dir };
        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(Config);
        psi.Environment["CLEAROCI_BIN"] = Tools.ClearOci;
        _daemon = Process.Start(psi) ?? throw new InvalidOperationException("cannot start containerd");
        var log = new StreamWriter(Log, append: true) { AutoFlush = true };
        _daemon.OutputDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        _daemon.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        _daemon.BeginOutputReadLine();
        _daemon.BeginErrorReadLine();
        bool up = await Tools.PollAsync(async () => File.Exists(Address) && (await Tools.RunAsync("/usr/bin/ctr", ["--address", Address, "version"], TimeSpan.FromSeconds(20))).ExitCode == 0,
            TimeSpan.FromSeconds(60));
        Assert.That(up, Is.True, $"containerd did not come up; log tail:\n{Tail()}");
        StartEvents();
    }

    private void StartEvents()
    {
        var psi = new ProcessStartInfo("/usr/bin/ctr") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "--address", Address, "events" }) psi.ArgumentList.Add(a);
        _events = Process.Start(psi)!;
        _events.OutputDataReceived += (_, e) => { if (e.Data != null) EventLines.Enqueue(e.Data); };
        _events.ErrorDataReceived += (_, _) => { };
        _events.BeginOutputReadLine();
        _events.BeginErrorReadLine();
    }

    /// <summary>Stops containerd (SIGTERM, then SIGKILL) and the events reader; shims keep running.</summary>
    public async Task StopDaemonAsync()
    {
        await Stop(_events);
        await Stop(_daemon);
        _events = _daemon = null;
    }

    private static async Task Stop(Process? p)
    {
        if (p == null || p.HasExited) return;
        Libc.kill(p.Id, 15);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            Libc.kill(p.Id, 9);
            await p.WaitForExitAsync();
        }
    }

    public Task<RunResult> CtrAsync(IReadOnlyList<string> args, TimeSpan? timeout = null, string ns = Namespace) =>
        Tools.RunAsync("/usr/bin/ctr", ["--address", Address, "-n", ns, .. args], timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>`ctr task ls` as id → (pid, status).</summary>
    public async Task<Dictionary<string, (string Pid, string Status)>> TasksAsync()
    {
        var r = await CtrAsync(["task", "ls"]);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= 3)
            .ToDictionary(f => f[0], f => (f[1], f[2]));
    }

    public async Task<bool> WaitForStatusAsync(string id, string status, TimeSpan deadline) =>
        await Tools.PollAsync(async () => (await TasksAsync()).TryGetValue(id, out var t) && t.Status == status, deadline);

    /// <summary>Waits until `ctr events` printed <paramref name="topic"/> for a line containing <paramref name="text"/>.</summary>
    public Task<bool> WaitForEventAsync(string topic, string text, TimeSpan deadline) =>
        Tools.PollAsync(() => Task.FromResult(EventLines.Any(l => l.Contains($" {topic} ") && l.Contains(text))), deadline);

    /// <summary>The topics seen for <paramref name="id"/>, in order.</summary>
    public List<string> TopicsFor(string id) =>
        EventLines.Where(l => l.Contains($"\"{id}\"") && l.Contains(" /tasks/"))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).First(w => w.StartsWith("/tasks/"))).ToList();

    /// <summary>Shim daemons this containerd started (their -address is our private socket).</summary>
    public List<int> ShimDaemons(string? id = null) =>
        Tools.FindProcesses("containerd-shim-clearoci-v2", Address, "serve", id is null ? "serve" : $"-id {id} ");

    public string Tail(int lines = 40)
    {
        try { return string.Join('\n', File.ReadAllLines(Log).TakeLast(lines)); }
        catch (IOException) { return "(no log)"; }
    }

    public async ValueTask DisposeAsync()
    {
        await StopDaemonAsync();
        // Shims (and through them the VMs) this containerd started: SIGTERM makes a shim force-delete its containers.
        foreach (int pid in ShimDaemons()) Libc.kill(pid, 15);
        await Tools.PollAsync(() => Task.FromResult(ShimDaemons().Count == 0), TimeSpan.FromSeconds(30));
        foreach (int pid in ShimDaemons()) Libc.kill(pid, 9);
        foreach (int pid in Tools.FindProcesses("clearoci", "supervise", Path.Combine(StateDir, "clearoci"))) Libc.kill(pid, 9);
        foreach (var socket in Directory.Exists("/run/containerd/s") ? Directory.GetFiles("/run/containerd/s") : [])
            if (_ownSockets.Contains(socket)) File.Delete(socket);
        UnmountUnder(Dir);
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { UnmountUnder(Dir); Directory.Delete(Dir, recursive: true); }
    }

    private readonly HashSet<string> _ownSockets = new();

    /// <summary>Remembers the group socket a test's task uses, so Dispose removes it if a shim was killed.</summary>
    public void Track(string group, string ns = Namespace) => _ownSockets.Add(ClearOci.Shim.ShimNaming.SocketPath(Address, ns, group));

    private static void UnmountUnder(string dir)
    {
        var points = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4])
            .Where(m => m == dir || m.StartsWith(dir + "/", StringComparison.Ordinal)).OrderByDescending(m => m.Length).ToList();
        foreach (var m in points) Libc.umount2(m, Libc.MNT_DETACH);
    }
}
