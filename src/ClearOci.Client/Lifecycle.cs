using System.Text;
using System.Text.Json;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Client;

/// <summary>
/// The OCI verbs on the host, the client side of every container: each reads the state, asks
/// <see cref="Transitions"/>, and sends one typed request to the container's supervisor
/// (<see cref="SupervisorClient"/>). Used in-process by the CLI and by the shim.
/// </summary>
public sealed class Lifecycle
{
    private readonly StateStore _store;

    public Lifecycle(StateStore store) => _store = store;

    public StateStore Store => _store;

    /// <summary>
    /// Validates everything it can, creates the state directory, spawns the supervisor (which boots
    /// the VM and creates the container) and returns once it reported ready, with its pid.
    /// Nothing is left behind when it fails.
    /// </summary>
    public int Create(CreateRequest r)
    {
        ContainerId.Validate(r.Id);
        string bundle = Path.TrimEndingDirectorySeparator(Path.GetFullPath(r.Bundle));
        var (spec, _) = ConfigCheck.Load(bundle); // config errors before anything exists
        if (spec.Process?.Terminal == true && r.ConsoleSocket == null && !r.TerminalOnStdio)
            throw ClearOciException.Invalid("cannot allocate a tty without --console-socket (the process would have no terminal)");
        if (spec.Process?.Terminal != true && r.ConsoleSocket != null)
            throw ClearOciException.Invalid("--console-socket needs process.terminal: true");
        if (r.PreserveFds < 0 || r.PreserveFds > 64) throw ClearOciException.Invalid($"--preserve-fds {r.PreserveFds}: expected 0 to 64");
        for (int fd = 3; fd < 3 + r.PreserveFds; fd++)
            if (Libc.fcntl(fd, Libc.F_GETFD, 0) < 0) throw ClearOciException.Invalid($"--preserve-fds {r.PreserveFds}: fd {fd} is not open");
        string? pidFile = r.PidFile is null ? null : CheckedPidFile(r.PidFile);
        string? consoleSocket = r.ConsoleSocket is null ? null : Path.GetFullPath(r.ConsoleSocket);
        if (consoleSocket != null && !File.Exists(consoleSocket))
            throw ClearOciException.Invalid($"--console-socket {r.ConsoleSocket}: no such socket");
        string dir = StateDirectory.Create(_store.Root, r.Id);
        int pid = 0;
        try
        {
            _store.Write(new ContainerRecord { Id = r.Id, Bundle = bundle, Status = Status.Creating, Created = DateTimeOffset.UtcNow, Annotations = spec.Annotations });
            string[] console = consoleSocket is null ? [] : ["--console-socket", consoleSocket];
            int ready = 3 + r.PreserveFds; // the preserved fds keep their numbers in the supervisor
            pid = SpawnDetached(r.Self, ["clearoci", .. r.GlobalArgs, "supervise", "--bundle", bundle, "--ready-fd", ready.ToString(),
                "--preserve-fds", r.PreserveFds.ToString(), .. console, r.Id], "the supervisor exited while creating the container", r.PreserveFds,
                nullStdio: consoleSocket != null, stdio: r.StdioFds, onSpawned: spawned =>
                {
                    // From now on a supervisor that dies makes the container read as stopped, not "creating" forever.
                    _store.Update(r.Id, c => c with { SupervisorPid = spawned, SupervisorStartTime = ProcessIdentity.StartTime(spawned) });
                    r.OnSpawned?.Invoke(spawned);
                });
            if (pidFile != null) AtomicFile.Write(pidFile, Encoding.ASCII.GetBytes(pid.ToString()));
            return pid;
        }
        catch
        {
            if (pid > 0) Delete(r.Id, force: true); // it was created, then the pid file could not be written: end its VM
            StateDirectory.Remove(dir);
            throw;
        }
    }

    /// <summary>The full path of a pid file whose directory exists (runc fails such a create too, but only after it made the container).</summary>
    private static string CheckedPidFile(string path)
    {
        string full = Path.GetFullPath(path);
        string parent = Path.GetDirectoryName(full) ?? "/";
        if (!Directory.Exists(parent)) throw ClearOciException.Invalid($"--pid-file {path}: directory {parent} does not exist");
        if (Directory.Exists(full)) throw ClearOciException.Invalid($"--pid-file {path}: is a directory");
        return full;
    }

    public void Start(string id) => Ask(id, new StartRequest());

    public OciState State(string id)
    {
        var r = _store.Read(id);
        return r.ToOciState(StateStore.Effective(r));
    }

    /// <summary>Signals the container's process, or with <paramref name="execId"/> one of its exec'd processes.</summary>
    /// <summary>Signal 0 (as kill(2)) only checks that the container is there to be signalled, as runc's does.</summary>
    public void Kill(string id, int signal, string? execId = null)
    {
        if (signal == 0 && execId is null)
        {
            Transitions.Check(Operation.Kill, StateStore.Effective(_store.Read(id)), id);
            return;
        }
        Ask(id, new KillRequest { Signal = signal, ExecId = execId });
    }

    public void Pause(string id) => Ask(id, new PauseRequest());

    public void Resume(string id) => Ask(id, new ResumeRequest());

    /// <summary>
    /// Runs <paramref name="processJson"/> in the container with this process's fds 0-2 as its
    /// stdio and returns its exit code. <paramref name="onStarted"/> runs once it is running
    /// (exec --detach reports readiness there).
    /// </summary>
    public int Exec(string id, string processJson, Action onStarted, string? consoleSocket = null, string? execId = null)
    {
        Transitions.Check(Operation.Exec, StateStore.Effective(_store.Read(id)), id);
        ConfigLoader.ParseProcess(Encoding.UTF8.GetBytes(processJson), "process.json"); // validated here, with a clear message
        var request = new ExecRequest
        {
            ExecId = execId ?? Guid.NewGuid().ToString("N")[..12], ProcessJson = processJson,
            ConsoleSocket = consoleSocket is null ? null : Path.GetFullPath(consoleSocket),
        };
        return SupervisorClient.RunProcess(_store.SocketPath(id), request, [0, 1, 2], onStarted, SupervisorClient.ReplyTimeout);
    }

    /// <summary>
    /// exec --detach: a small relay process (this executable again, in its own session) holds
    /// the caller's stdio (or <paramref name="stdio"/>) and exits with the exec'd process's status;
    /// its pid goes to the pid file, and is returned.
    /// </summary>
    public int ExecDetached(string id, string processFile, string? pidFile, string self, IReadOnlyList<string> globalArgs, string? consoleSocket = null,
        string? execId = null, (int In, int Out, int Err)? stdio = null)
    {
        Transitions.Check(Operation.Exec, StateStore.Effective(_store.Read(id)), id);
        string? pidPath = pidFile is null ? null : CheckedPidFile(pidFile);
        string[] console = consoleSocket is null ? [] : ["--console-socket", Path.GetFullPath(consoleSocket)];
        string[] named = execId is null ? [] : ["--exec-id", execId];
        int pid = SpawnDetached(self, ["clearoci", .. globalArgs, "exec", "--process", processFile, "--ready-fd", "3", .. console, .. named, id],
            "the exec relay exited before the process started", 0, nullStdio: consoleSocket != null, stdio: stdio);
        if (pidPath != null) AtomicFile.Write(pidPath, Encoding.ASCII.GetBytes(pid.ToString()));
        return pid;
    }

    /// <summary>`update --resources`: validated here, applied to the container's cgroup in the guest.</summary>
    public void Update(string id, byte[] resourcesJson, string source)
    {
        var resources = ConfigLoader.ParseResources(resourcesJson, source);
        Ask(id, new UpdateRequest { ResourcesJson = SpecJson.Serialize(resources) });
    }

    /// <summary>The container's resource usage, from its cgroup in the guest.</summary>
    public ClearOci.Protocol.ContainerStats Stats(string id) =>
        Ask(id, new StatsRequest()).Stats ?? throw new ClearOciException(ErrorCode.Agent, "the supervisor sent no stats");

    /// <summary>runc's stats event: {"type":"stats","id":..,"data":{cpu, memory, pids}}.</summary>
    public System.Text.Json.Nodes.JsonObject StatsEvent(string id)
    {
        var s = Stats(id);
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

    /// <summary>
    /// `events`: subscribes to the container's events (runc's types: "oom"). Returns once
    /// subscribed; the returned task ends when the container has stopped.
    /// </summary>
    public Task<Task> SubscribeEventsAsync(string id, Action<string> onEvent, CancellationToken ct)
    {
        Transitions.Check(Operation.Events, StateStore.Effective(_store.Read(id)), id);
        return Task.FromResult(SupervisorClient.SubscribeEvents(_store.SocketPath(id), onEvent, ct));
    }

    public List<int> Ps(string id)
    {
        var r = _store.Read(id);
        if (StateStore.Effective(r) == Status.Stopped) return [];
        return Ask(id, new PsRequest()).Pids ?? [];
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
                if (!force) Transitions.Check(Operation.Delete, status, id);
                if (r.SupervisorPid > 0)
                {
                    try { Ask(id, new KillRequest { Signal = 9 }); } catch (ClearOciException) { }
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

    /// <summary>Checks the request against the state machine (a stopped container has no supervisor to ask), then asks the supervisor, which checks again under its lock.</summary>
    private SupervisorReply Ask(string id, SupervisorRequest request)
    {
        Transitions.Check(request.Operation, StateStore.Effective(_store.Read(id)), id);
        return SupervisorClient.Call(_store.SocketPath(id), request);
    }

    /// <summary>
    /// Starts this executable again in its own session with the caller's fds 0-2 (or
    /// <paramref name="stdio"/>; and the preserved ones after them) and a ready pipe as the next fd,
    /// and waits for its word (<see cref="ReadyPipe"/>); on a failure it waits (bounded) until
    /// the child is gone. With <paramref name="nullStdio"/> (a terminal: the process's stdio is the
    /// pty) fds 0-2 are /dev/null instead: containerd's shim reads a tty create's output pipe to
    /// its end, which would never come while the detached process held it (runc's behaviour too).
    /// </summary>
    private static int SpawnDetached(string self, string[] args, string diedWithoutWord, int preserveFds, bool nullStdio = false,
        (int In, int Out, int Err)? stdio = null, Action<int>? onSpawned = null)
    {
        var (readyRead, readyWrite) = Libc.Pipe();
        int devNull = -1;
        int pid;
        try
        {
            var fds = Enumerable.Range(0, 3 + preserveFds).ToDictionary(fd => fd, fd => fd);
            if (stdio is { } s) (fds[0], fds[1], fds[2]) = (s.In, s.Out, s.Err);
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
        try
        {
            onSpawned?.Invoke(pid);
            ReadyPipe.Await(readyRead, diedWithoutWord);
            return pid;
        }
        catch
        {
            ulong start = ProcessIdentity.StartTime(pid);
            if (!WaitGone(pid, start, TimeSpan.FromSeconds(15)))
            {
                Libc.kill(pid, 9); // it said nothing and did not end: no half-made container may live on
                WaitGone(pid, start, TimeSpan.FromSeconds(5));
            }
            throw;
        }
        finally { Libc.close(readyRead); }
    }

    /// <summary>Polls (with a deadline) until the process is gone or its pid belongs to another process.</summary>
    internal static bool WaitGone(int pid, ulong startTime, TimeSpan deadline)
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
