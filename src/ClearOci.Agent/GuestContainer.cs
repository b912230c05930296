using System.Text;
using System.Text.Json;
using ClearOci.Native;
using ClearOci.Protocol;
using ClearOci.Spec;
using Microsoft.Win32.SafeHandles;

namespace ClearOci.Agent;

/// <summary>One container in the guest: its root share, its init process and that process's stdio.</summary>
internal sealed class GuestContainer : IDisposable
{
    private readonly AgentService _agent;
    private readonly string _dir;
    private int _pid;
    private int _syncFd = -1, _startFd = -1;
    private Task[] _pumps = [];
    private OciSpec _spec = new();
    private string _rootfs = "";
    private ClearOci.Seccomp.SeccompFilter? _seccomp;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _execs = new();
    private OomWatch? _oom;

    public GuestContainer(AgentService agent, string id)
    {
        _agent = agent;
        Id = id;
        _dir = $"/run/clearoci/containers/{id}";
    }

    public string Id { get; }

    /// <summary>Where preserved fds wait in the init stage until they are moved into place.</summary>
    private const int ExtraBase = 100;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _terminals = new();

    /// <summary>
    /// The child's three stdio fds and the agent's ends: pipes; or, for a terminal, /dev/null for
    /// now and a socket on which the init stage sends the master of the pty it opens inside the
    /// container (its own devpts), as runc does with --console-socket.
    /// </summary>
    private sealed record ProcessIo(int ChildIn, int ChildOut, int ChildErr, int StdinWrite, int StdoutRead, int StderrRead, int Master, int ConsoleAgent, int ConsoleChild)
    {
        public static ProcessIo Create(Process process)
        {
            if (process.Terminal == true)
            {
                var (agent, child) = Libc.SocketPair();
                int devnull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
                return new ProcessIo(devnull, devnull, devnull, -1, -1, -1, -1, agent, child);
            }
            var stdin = Libc.Pipe();
            var stdout = Libc.Pipe();
            var stderr = Libc.Pipe();
            return new ProcessIo(stdin.Read, stdout.Write, stderr.Write, stdin.Write, stdout.Read, stderr.Read, -1, -1, -1);
        }

        public void AddChildFds(Dictionary<int, int> fds)
        {
            fds[0] = ChildIn; fds[1] = ChildOut; fds[2] = ChildErr;
            if (ConsoleChild >= 0) fds[ContainerInit.ConsoleFd] = ConsoleChild;
        }

        public void CloseChildEnds()
        {
            foreach (var fd in new[] { ChildIn, ChildOut, ChildErr, ConsoleChild }.Where(f => f >= 0).Distinct()) Libc.close(fd);
        }

        /// <summary>For a terminal: waits for the pty master from the init stage (null if it died first).</summary>
        public async Task<ProcessIo?> ReceiveMasterAsync()
        {
            if (ConsoleAgent < 0) return this;
            try
            {
                var (_, fds) = await Task.Run(() => FdPassing.Receive(ConsoleAgent, new byte[64])).ConfigureAwait(false);
                if (fds.Length != 1) { foreach (var fd in fds) Libc.close(fd); return null; }
                int reader = Libc.Check(Libc.fcntl(fds[0], 1030 /* F_DUPFD_CLOEXEC */, 3), "dup");
                return this with { StdinWrite = fds[0], StdoutRead = reader, Master = fds[0] };
            }
            finally { Libc.close(ConsoleAgent); }
        }

        public void CloseAgentEnds()
        {
            foreach (var fd in new[] { StdinWrite, StdoutRead, StderrRead }.Where(f => f >= 0)) Libc.close(fd);
        }
    }

    private Task[] StartPumps(ProcessIo io, StdioStreams streams, string execId)
    {
        _agent.AddStdin(streams.Stdin, io.StdinWrite);
        if (io.Master >= 0) _terminals[execId] = io.Master;
        return [Pump(io.StdoutRead, streams.Stdout), io.StderrRead >= 0 ? Pump(io.StderrRead, streams.Stderr) : _agent.Io.SendEofAsync(streams.Stderr)];
    }

    /// <summary>CPU and memory of the whole guest (the VM is the container's), and the processes of its pid namespace.</summary>
    public ContainerStats Stats()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        const ulong nsPerTick = 10_000_000; // USER_HZ = 100
        var mem = File.ReadLines("/proc/meminfo").Select(l => l.Split(':')).ToDictionary(p => p[0], p => ulong.Parse(p[1].Trim().Split(' ')[0]) * 1024);
        string? ns = _pid > 0 ? new FileInfo($"/proc/{_pid}/ns/pid").LinkTarget : null;
        int pids = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try { if (ns != null && new FileInfo(Path.Combine(dir, "ns", "pid")).LinkTarget == ns) pids++; }
            catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return new ContainerStats
        {
            CpuUserNs = (ulong.Parse(cpu[1]) + ulong.Parse(cpu[2])) * nsPerTick,
            CpuKernelNs = ulong.Parse(cpu[3]) * nsPerTick,
            MemoryLimitBytes = mem["MemTotal"],
            MemoryUsageBytes = mem["MemTotal"] - mem["MemAvailable"],
            Pids = pids,
        };
    }

    public Response Update(string resourcesJson)
    {
        var resources = JsonSerializer.Deserialize(resourcesJson, SpecJsonContext.Default.LinuxResources) ?? throw ClearOciException.Invalid("empty resources");
        GuestCgroup.Apply(Id, resources);
        return new Response();
    }

    public async Task<Response> FreezeAsync(bool frozen)
    {
        await GuestCgroup.FreezeAsync(Id, frozen);
        return new Response();
    }

    public Response Resize(string execId, ushort rows, ushort cols)
    {
        if (!_terminals.TryGetValue(execId, out int master)) throw new ClearOciException(ErrorCode.InvalidState, "the process has no terminal");
        Pty.SetSize(master, rows, cols);
        return new Response();
    }

    public async Task<int> CreateAsync(CreateContainer m)
    {
        var spec = JsonSerializer.Deserialize(m.ConfigJson, SpecJsonContext.Default.OciSpec)
            ?? throw ClearOciException.Invalid("empty config");
        // A bad seccomp profile fails the create here, before anything is mounted or spawned.
        _seccomp = ClearOci.Seccomp.SeccompCompiler.Compile(spec.Linux?.Seccomp);
        string rootfs = Path.Combine(_dir, "rootfs");
        _spec = spec;
        _rootfs = rootfs;
        Libc.MkdirAll(rootfs);
        GuestShares.MountRootfs(m, rootfs); // the share, or its root directory

        GuestCgroup.Create(Id);
        GuestCgroup.Apply(Id, spec.Linux?.Resources);
        GuestCgroup.CreateDevices(Id, spec);
        _oom = new OomWatch(GuestCgroup.PathOf(Id), () => _agent.SendOomKilled(Id));
        var io = ProcessIo.Create(spec.Process ?? new Process());
        var plan = Libc.Pipe();
        var sync = Libc.Pipe();
        var start = Libc.Pipe();
        int procs = GuestCgroup.OpenProcs(Id);
        var fds = new Dictionary<int, int>
        {
            [ContainerInit.PlanFd] = plan.Read, [ContainerInit.SyncFd] = sync.Write, [ContainerInit.StartFd] = start.Read,
            [ContainerInit.CgroupFd] = procs,
        };
        io.AddChildFds(fds);
        // --preserve-fds: each extra fd of the host caller becomes a socket here, relayed both ways.
        // They arrive at high numbers (the stage's own fds 3-7 are in the way) and are moved at exec.
        var extras = (m.ExtraFds ?? []).Select(e => (e, Pair: Libc.SocketPair())).ToList();
        for (int i = 0; i < extras.Count; i++) fds[ExtraBase + i] = extras[i].Pair.B;
        try
        {
            _pid = SpawnOnThread(() => Libc.Check(Libc.unshare(NamespaceFlags(spec)), "unshare"), fds);
        }
        finally
        {
            io.CloseChildEnds();
            Libc.close(plan.Read); Libc.close(sync.Write); Libc.close(start.Read); Libc.close(procs);
            foreach (var (_, pair) in extras) Libc.close(pair.B);
        }
        _syncFd = sync.Read;
        _startFd = start.Write;
        var exited = _agent.Reaper.Watch(_pid);

        byte[] planJson = JsonSerializer.SerializeToUtf8Bytes(new InitPlan
        {
            RootfsPath = rootfs, Spec = spec, Seccomp = _seccomp, CgroupPath = GuestCgroup.PathOf(Id),
            ExtraFds = extras.Select((x, i) => new[] { ExtraBase + i, x.e.Fd }).ToList(),
        }, AgentJsonContext.Default.InitPlan);
        try
        {
            // Before the plan, which the stage waits for: it opens no device before it is in the group.
            GuestCgroup.JoinDevices(Id, _pid);
            Libc.WriteAll(plan.Write, planJson);
        }
        finally { Libc.close(plan.Write); } // without a plan the stage exits

        var withMaster = await io.ReceiveMasterAsync();
        string reply = await Task.Run(() => ReadSync(expectReady: true));
        if (reply != "R" || withMaster is null)
        {
            await exited;
            (withMaster ?? io).CloseAgentEnds();
            throw new ClearOciException(ErrorCode.Agent, reply.Length > 1 ? reply[1..] : "container init exited before it was ready");
        }
        _pumps = StartPumps(withMaster, m.Stdio, "");
        foreach (var (e, pair) in extras)
        {
            _agent.AddStdin(e.In, Libc.Check(Libc.fcntl(pair.A, 1030 /* F_DUPFD_CLOEXEC */, 3), "dup"));
            _ = Pump(pair.A, e.Out);
        }
        _ = WatchExitAsync(exited, _pumps, "");
        return _pid;
    }

    /// <summary>The guest's /etc from this container's config, if it is the VM's first; a failure is logged, not fatal.</summary>
    public void ConfigureGuestEtc()
    {
        try { GuestEtc.ConfigureFor(_spec, Id, _rootfs); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { GuestBoot.Log($"guest /etc: {e.Message}"); }
    }

    /// <summary>Runs another process in this container's namespaces (and so its root), at once.</summary>
    public async Task<Response> ExecAsync(ExecProcess m)
    {
        if (_pid <= 0) throw new ClearOciException(ErrorCode.InvalidState, "the container has no process to join");
        if (_execs.ContainsKey(m.ExecId)) throw new ClearOciException(ErrorCode.AlreadyExists, $"exec id {m.ExecId} is in use");
        var process = JsonSerializer.Deserialize(m.ProcessJson, SpecJsonContext.Default.Process) ?? throw ClearOciException.Invalid("empty process");
        var io = ProcessIo.Create(process);
        var plan = Libc.Pipe();
        var sync = Libc.Pipe();
        // The mount namespace is joined by the stage itself: a thread of this multi-threaded agent
        // cannot enter one, and /proc/self/exe must still resolve in ours while spawning.
        int mnt = Libc.Check(Libc.open($"/proc/{_pid}/ns/mnt", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), $"open /proc/{_pid}/ns/mnt");
        int procs = GuestCgroup.OpenProcs(Id);
        var fds = new Dictionary<int, int>
        {
            [ContainerInit.PlanFd] = plan.Read, [ContainerInit.SyncFd] = sync.Write, [ContainerInit.MountNsFd] = mnt,
            [ContainerInit.CgroupFd] = procs,
        };
        io.AddChildFds(fds);
        int pid;
        try { pid = SpawnOnThread(() => JoinNamespaces(_pid), fds); }
        finally
        {
            io.CloseChildEnds();
            Libc.close(plan.Read); Libc.close(sync.Write); Libc.close(mnt); Libc.close(procs);
        }
        var exited = _agent.Reaper.Watch(pid);
        byte[] planJson = JsonSerializer.SerializeToUtf8Bytes(new InitPlan { RootfsPath = _rootfs, Spec = _spec, Exec = process, Seccomp = _seccomp }, AgentJsonContext.Default.InitPlan);
        try
        {
            GuestCgroup.JoinDevices(Id, pid);
            Libc.WriteAll(plan.Write, planJson);
        }
        finally { Libc.close(plan.Write); }
        var withMaster = await io.ReceiveMasterAsync();
        string reply = await Task.Run(() => ReadAll(sync.Read));
        Libc.close(sync.Read);
        if (reply.Length > 0 || withMaster is null)
        {
            await exited;
            (withMaster ?? io).CloseAgentEnds();
            throw new ClearOciException(ErrorCode.Agent, reply.Length > 1 ? reply[1..] : "the exec stage died before it opened the terminal");
        }
        _execs[m.ExecId] = pid;
        var pumps = StartPumps(withMaster, m.Stdio, m.ExecId);
        _ = WatchExitAsync(exited, pumps, m.ExecId);
        return new Response { Pid = pid };
    }

    /// <summary>Joins the namespaces of <paramref name="pid"/> on this thread, all but the mount namespace.</summary>
    private static void JoinNamespaces(int pid)
    {
        foreach (var ns in (string[])["ipc", "uts", "net", "pid", "cgroup"])
        {
            int fd = Libc.open($"/proc/{pid}/ns/{ns}", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            if (fd < 0) throw Libc.Error($"open /proc/{pid}/ns/{ns}");
            try { Libc.Check(Libc.setns(fd, 0), $"setns {ns}"); }
            finally { Libc.close(fd); }
        }
    }

    private static string ReadAll(int fd) => Encoding.UTF8.GetString(Libc.ReadToEnd(fd));

    public async Task<Response> StartAsync(string execId)
    {
        if (execId.Length != 0) throw new ClearOciException(ErrorCode.Unsupported, "exec is not supported yet");
        if (_startFd < 0) throw new ClearOciException(ErrorCode.InvalidState, "container already started");
        Libc.WriteAll(_startFd, "S"u8);
        Libc.close(_startFd);
        _startFd = -1;
        // EOF on the sync pipe means exec succeeded (it is close-on-exec); 'E' carries the failure.
        string reply = await Task.Run(() => ReadSync(expectReady: false));
        Libc.close(_syncFd);
        _syncFd = -1;
        if (reply.Length > 0) throw new ClearOciException(ErrorCode.Agent, reply[1..]);
        return new Response { Pid = _pid };
    }

    public Response Signal(string execId, int signal)
    {
        int pid = execId.Length == 0 ? _pid : _execs.TryGetValue(execId, out int e) ? e : 0;
        if (pid <= 0) throw new ClearOciException(ErrorCode.NotFound, $"no process {execId}");
        if (Libc.kill(pid, signal) < 0) throw Libc.Error($"kill {pid}");
        return new Response();
    }

    private string ReadSync(bool expectReady)
    {
        // 'R' alone, or 'E' and a message up to EOF.
        var bytes = new List<byte>();
        Span<byte> buf = stackalloc byte[4096];
        while (true)
        {
            int n = Libc.Read(_syncFd, buf);
            if (n == 0) break;
            bytes.AddRange(buf[..n].ToArray());
            if (expectReady && bytes.Count == 1 && bytes[0] == (byte)'R') break;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private Task Pump(int fd, uint stream) => Task.Run(async () =>
    {
        using var fs = new FileStream(new SafeFileHandle(fd, true), FileAccess.Read, 0);
        byte[] buffer = new byte[IoChannel.MaxChunk];
        int n;
        try
        {
            while ((n = await fs.ReadAsync(buffer)) > 0)
                await _agent.Io.SendAsync(stream, buffer.AsMemory(0, n));
        }
        catch (IOException) { /* EIO: the last holder of a pty's slave side closed it */ }
        await _agent.Io.SendEofAsync(stream);
    });

    private async Task WatchExitAsync(Task<int> exited, Task[] pumps, string execId)
    {
        try
        {
            int status = await exited;
            long when = Libc.BootTimeNs();
            // All output reaches the host before the exit status does (pumps end with EOF frames).
            await Task.WhenAny(Task.WhenAll(pumps), Task.Delay(TimeSpan.FromSeconds(5)));
            _execs.TryRemove(execId, out _);
            _terminals.TryRemove(execId, out _);
            _oom?.Check(); // a kill that ended this process is reported before its exit
            await _agent.SendExitedAsync(new ProcessExited { ContainerId = Id, ExecId = execId, Status = WaitStatus.ToExitCode(status), ExitedNs = when });
        }
        catch (Exception e) { GuestBoot.Log($"reporting the exit of {Id} {execId}: {e}"); }
    }

    private static int NamespaceFlags(OciSpec spec)
    {
        int flags = Libc.CLONE_NEWNS; // always: the container's mounts must never touch the agent's
        foreach (var ns in spec.Linux?.Namespaces ?? [])
        {
            if (!string.IsNullOrEmpty(ns.Path)) continue; // joins by path are the host's business
            flags |= ns.Type switch
            {
                "pid" => Libc.CLONE_NEWPID,
                // The guest's own network namespace is the container's: its NICs mirror the
                // container's namespace on the host (ConfigureNetwork). A fresh one would be empty.
                "network" => 0,
                "ipc" => Libc.CLONE_NEWIPC,
                "uts" => Libc.CLONE_NEWUTS,
                "mount" => Libc.CLONE_NEWNS,
                "cgroup" => 0, // the init stage makes it once it is in the container's group
                _ => 0,
            };
        }
        return flags;
    }

    /// <summary>
    /// Namespaces belong to a thread: a fresh thread enters them (<paramref name="enter"/>: unshare
    /// new ones, or join a container's), spawns the init stage, which inherits them (and is PID 1
    /// of a new pid namespace), and ends, taking them with it.
    /// </summary>
    private static int SpawnOnThread(Action enter, IReadOnlyDictionary<int, int> fds)
    {
        int pid = 0;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                enter();
                pid = Spawner.Spawn(new SpawnOptions
                {
                    Path = "/proc/self/exe",
                    Args = ["clearoci-agent", ContainerInit.Verb],
                    Env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                    Fds = fds,
                });
            }
            catch (Exception e) { error = e; }
        }) { Name = "spawn" };
        t.Start();
        t.Join();
        if (error != null) throw error;
        return pid;
    }

    /// <summary>A create that failed: what it made in the guest goes (its cgroups once empty, the rootfs bind).</summary>
    public void Dispose()
    {
        if (_syncFd >= 0) Libc.close(_syncFd);
        if (_startFd >= 0) Libc.close(_startFd);
        _oom?.Dispose();
        if (_rootfs.Length > 0) Libc.umount2(_rootfs, 2 /* MNT_DETACH */);
        GuestCgroup.Remove(Id);
    }
}
