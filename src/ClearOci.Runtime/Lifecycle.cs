using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>One row of `list --format json` (runc's fields).</summary>
public sealed record ListEntry
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; init; } = "1.2.0";
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("pid")] public int Pid { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("bundle")] public required string Bundle { get; init; }
    [JsonPropertyName("rootfs")] public string Rootfs { get; init; } = "";
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }
    [JsonPropertyName("owner")] public string Owner { get; init; } = "root";
}

/// <summary>What `create` needs.</summary>
public sealed record CreateRequest
{
    public required string Id { get; init; }
    public required string Bundle { get; init; }
    public string? PidFile { get; init; }
    public string? ConsoleSocket { get; init; }
    public int PreserveFds { get; init; }
    /// <summary>The executable to run as the supervisor (`clearoci supervise ...`).</summary>
    public required string Self { get; init; }
    /// <summary>Global flags the supervisor must see too (--root, --debug...).</summary>
    public required IReadOnlyList<string> GlobalArgs { get; init; }
}

/// <summary>The OCI verbs on the host. Each reads state, checks the transition, and asks the supervisor.</summary>
public sealed class Lifecycle
{
    private static readonly TimeSpan VerbTimeout = TimeSpan.FromSeconds(30);
    private readonly StateStore _store;

    public Lifecycle(StateStore store) => _store = store;

    public void Create(CreateRequest r)
    {
        ContainerId.Validate(r.Id);
        string bundle = Path.TrimEndingDirectorySeparator(Path.GetFullPath(r.Bundle));
        var (spec, _) = ContainerSandbox.LoadChecked(bundle); // config errors before anything exists
        if (spec.Process?.Terminal == true && r.ConsoleSocket == null)
            throw ClearOciException.Invalid("cannot allocate a tty without --console-socket (the process would have no terminal)");
        if (spec.Process?.Terminal != true && r.ConsoleSocket != null)
            throw ClearOciException.Invalid("--console-socket needs process.terminal: true");
        if (r.PreserveFds < 0 || r.PreserveFds > 64) throw ClearOciException.Invalid($"--preserve-fds {r.PreserveFds}: expected 0 to 64");
        for (int fd = 3; fd < 3 + r.PreserveFds; fd++)
            if (Libc.fcntl(fd, Libc.F_GETFD, 0) < 0) throw ClearOciException.Invalid($"--preserve-fds {r.PreserveFds}: fd {fd} is not open");
        string dir = StateDirectory.Create(_store.Root, r.Id);
        try
        {
            _store.Write(new ContainerRecord { Id = r.Id, Bundle = bundle, Status = Status.Creating, Created = DateTimeOffset.UtcNow, Annotations = spec.Annotations });
            string[] console = r.ConsoleSocket is null ? [] : ["--console-socket", Path.GetFullPath(r.ConsoleSocket)];
            int ready = 3 + r.PreserveFds; // the preserved fds keep their numbers in the supervisor
            int pid = SpawnDetached(r.Self, ["clearoci", .. r.GlobalArgs, "supervise", "--bundle", bundle, "--ready-fd", ready.ToString(),
                "--preserve-fds", r.PreserveFds.ToString(), .. console, r.Id], "the supervisor exited while creating the container", r.PreserveFds,
                nullStdio: r.ConsoleSocket != null);
            if (r.PidFile != null) AtomicFile.Write(Path.GetFullPath(r.PidFile), Encoding.ASCII.GetBytes(pid.ToString()));
        }
        catch
        {
            StateDirectory.Remove(dir);
            throw;
        }
    }

    public void Start(string id)
    {
        var r = _store.Read(id);
        Transitions.CheckStart(StateStore.Effective(r));
        Call(id, new SupervisorRequest { Op = "start" });
    }

    public OciState State(string id)
    {
        var r = _store.Read(id);
        return r.ToOciState(StateStore.Effective(r));
    }

    /// <summary>Signals the container's process, or with <paramref name="execId"/> one of its exec'd processes.</summary>
    public void Kill(string id, int signal, string? execId = null)
    {
        var r = _store.Read(id);
        Transitions.CheckKill(StateStore.Effective(r));
        Call(id, new SupervisorRequest { Op = "kill", Signal = signal, ExecId = execId });
    }

    public void Pause(string id)
    {
        Transitions.CheckPause(StateStore.Effective(_store.Read(id)));
        Call(id, new SupervisorRequest { Op = "pause" });
    }

    public void Resume(string id)
    {
        Transitions.CheckResume(StateStore.Effective(_store.Read(id)));
        Call(id, new SupervisorRequest { Op = "resume" });
    }

    /// <summary>
    /// Runs <paramref name="processJson"/> in the container with this process's fds 0-2 as its
    /// stdio and returns its exit code. <paramref name="onStarted"/> runs once it is running
    /// (exec --detach reports readiness there).
    /// </summary>
    public int Exec(string id, string processJson, Action onStarted, string? consoleSocket = null, string? execId = null)
    {
        var r = _store.Read(id);
        var status = StateStore.Effective(r);
        if (status is not (Status.Created or Status.Running)) throw new ClearOciException(ErrorCode.InvalidState, status == Status.Paused ? "cannot exec in a paused container" : "cannot exec in a stopped container");
        ConfigLoader.ParseProcess(Encoding.UTF8.GetBytes(processJson), "process.json"); // validated here, with a clear message
        return SupervisorClient.Exec(_store.SocketPath(id),
            new SupervisorRequest { Op = "exec", ExecId = execId ?? Guid.NewGuid().ToString("N")[..12], Process = processJson,
                ConsoleSocket = consoleSocket is null ? null : Path.GetFullPath(consoleSocket) }, onStarted);
    }

    /// <summary>
    /// exec --detach: a small relay process (this executable again, in its own session) holds
    /// the caller's stdio and exits with the exec'd process's status; its pid goes to the pid file.
    /// </summary>
    public void ExecDetached(string id, string processFile, string? pidFile, string self, IReadOnlyList<string> globalArgs, string? consoleSocket = null, string? execId = null)
    {
        Transitions.CheckKill(StateStore.Effective(_store.Read(id)));
        string[] console = consoleSocket is null ? [] : ["--console-socket", Path.GetFullPath(consoleSocket)];
        string[] named = execId is null ? [] : ["--exec-id", execId];
        int pid = SpawnDetached(self, ["clearoci", .. globalArgs, "exec", "--process", processFile, "--ready-fd", "3", .. console, .. named, id],
            "the exec relay exited before the process started", 0, nullStdio: consoleSocket != null);
        if (pidFile != null) AtomicFile.Write(Path.GetFullPath(pidFile), Encoding.ASCII.GetBytes(pid.ToString()));
    }

    /// <summary>`update --resources`: validated here, applied to the container's cgroup in the guest.</summary>
    public void Update(string id, byte[] resourcesJson, string source)
    {
        var resources = ConfigLoader.ParseResources(resourcesJson, source);
        Transitions.CheckKill(StateStore.Effective(_store.Read(id)));
        Call(id, new SupervisorRequest { Op = "update", Resources = SpecJson.Serialize(resources) });
    }

    /// <summary>runc's stats event: {"type":"stats","id":..,"data":{cpu, memory, pids}}.</summary>
    public System.Text.Json.Nodes.JsonObject StatsEvent(string id)
    {
        var r = _store.Read(id);
        if (StateStore.Effective(r) == Status.Stopped) throw new ClearOciException(ErrorCode.InvalidState, "container not running");
        var s = Call(id, new SupervisorRequest { Op = "stats" }).Stats ?? throw new ClearOciException(ErrorCode.Agent, "no stats");
        return new()
        {
            ["type"] = "stats",
            ["id"] = id,
            ["data"] = new System.Text.Json.Nodes.JsonObject
            {
                ["cpu"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["usage"] = new System.Text.Json.Nodes.JsonObject { ["total"] = s.CpuUserNs + s.CpuKernelNs, ["user"] = s.CpuUserNs, ["kernel"] = s.CpuKernelNs },
                },
                ["memory"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["usage"] = new System.Text.Json.Nodes.JsonObject { ["usage"] = s.MemoryUsageBytes, ["limit"] = s.MemoryLimitBytes },
                },
                ["pids"] = new System.Text.Json.Nodes.JsonObject { ["current"] = s.Pids },
            },
        };
    }

    /// <summary>`events`: subscribes to the container's events (runc's types: "oom"); see <see cref="SupervisorEvents"/>.</summary>
    public Task<Task> SubscribeEventsAsync(string id, Action<string> onEvent, CancellationToken ct)
    {
        if (StateStore.Effective(_store.Read(id)) == Status.Stopped) throw new ClearOciException(ErrorCode.InvalidState, "container not running");
        return SupervisorEvents.SubscribeAsync(_store.SocketPath(id), onEvent, ct);
    }

    public List<int> Ps(string id)
    {
        var r = _store.Read(id);
        if (StateStore.Effective(r) == Status.Stopped) return [];
        return Call(id, new SupervisorRequest { Op = "ps" }).Pids ?? [];
    }

    /// <summary>Removes a stopped container; with force, kills a live one first. Force is idempotent.</summary>
    public void Delete(string id, bool force)
    {
        ContainerId.Validate(id);
        if (!_store.Exists(id))
        {
            if (force) return;
            throw new ClearOciException(ErrorCode.NotFound, $"container does not exist: {id}");
        }
        ContainerRecord? r = null;
        try { r = _store.Read(id); }
        catch (ClearOciException) when (force) { /* a create that died before writing its state */ }
        if (r != null)
        {
            var status = StateStore.Effective(r);
            if (status != Status.Stopped)
            {
                if (!force) Transitions.CheckDelete(id, status);
                if (r.SupervisorPid > 0)
                {
                    try { Call(id, new SupervisorRequest { Op = "kill", Signal = 9 }); } catch (ClearOciException) { }
                    if (!WaitGone(r.SupervisorPid, r.SupervisorStartTime, TimeSpan.FromSeconds(15)))
                    {
                        Libc.kill(r.SupervisorPid, 9); // the agent powers the VM off when its host link drops
                        WaitGone(r.SupervisorPid, r.SupervisorStartTime, TimeSpan.FromSeconds(5));
                    }
                }
            }
        }
        StateDirectory.Remove(_store.Dir(id));
        if (r != null) RunPoststop(r);
    }

    private static void RunPoststop(ContainerRecord r)
    {
        OciSpec spec;
        try { spec = ConfigLoader.Load(r.Bundle, requireProcess: false).Spec; }
        catch (ClearOciException) { return; } // the bundle is gone: nothing left to tell
        HookRunner.RunBestEffort("poststop", spec.Hooks?.Poststop, r.ToOciState(Status.Stopped));
    }

    public List<ListEntry> List() =>
        _store.Ids().Select(id =>
        {
            try
            {
                var r = _store.Read(id);
                var s = StateStore.Effective(r);
                return new ListEntry { Id = id, Pid = s == Status.Stopped ? 0 : r.SupervisorPid, Status = Transitions.Name(s), Bundle = r.Bundle, Created = r.Created };
            }
            catch (ClearOciException) { return null; }
        }).OfType<ListEntry>().ToList();

    public static string ToJson(List<ListEntry> list) => JsonSerializer.Serialize(list, RuntimeJsonContext.Default.ListListEntry);
    public static string ToJson(List<int> pids) => JsonSerializer.Serialize(pids, RuntimeJsonContext.Default.ListInt32);

    private SupervisorResponse Call(string id, SupervisorRequest request) =>
        SupervisorClient.CallAsync(_store.SocketPath(id), request, VerbTimeout).GetAwaiter().GetResult();

    /// <summary>
    /// Starts this executable again in its own session with the caller's fds 0-2 (and the
    /// preserved ones after them) and a ready pipe as the next fd, and waits for its word: 'R', or 'E' and a message (then it has exited or will).
    /// With <paramref name="nullStdio"/> (a terminal: the process's stdio is the pty) fds 0-2 are
    /// /dev/null instead: containerd's shim reads a tty create's output pipe to its end, which
    /// would never come while the detached process held it (runc's behaviour too).
    /// </summary>
    private static int SpawnDetached(string self, string[] args, string diedWithoutWord, int preserveFds, bool nullStdio = false)
    {
        var (readyRead, readyWrite) = Libc.Pipe();
        int devNull = -1;
        int pid;
        try
        {
            var fds = Enumerable.Range(0, 3 + preserveFds).ToDictionary(fd => fd, fd => fd);
            if (nullStdio)
            {
                devNull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
                for (int fd = 0; fd < 3; fd++) fds[fd] = devNull;
            }
            fds[3 + preserveFds] = readyWrite;
            pid = Spawner.Spawn(new SpawnOptions { Path = self, Args = args, Fds = fds, NewSession = true, WorkingDirectory = "/" });
        }
        finally
        {
            Libc.close(readyWrite);
            if (devNull >= 0) Libc.close(devNull);
        }
        string reply;
        try { reply = Encoding.UTF8.GetString(Libc.ReadToEnd(readyRead)); }
        finally { Libc.close(readyRead); }
        if (reply == "R") return pid;
        WaitGone(pid, ProcessIdentity.StartTime(pid), TimeSpan.FromSeconds(15));
        throw new ClearOciException(ErrorCode.Agent, reply.Length > 1 ? reply[1..] : diedWithoutWord);
    }

    /// <summary>Polls (with a deadline) until the process is gone or its pid belongs to another process.</summary>
    private static bool WaitGone(int pid, ulong startTime, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            if (!ProcessIdentity.IsAlive(pid, startTime)) return true;
            Thread.Sleep(20);
        }
        return !ProcessIdentity.IsAlive(pid, startTime);
    }
}
