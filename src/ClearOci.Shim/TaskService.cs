using System.Text;
using System.Text.Json;
using ClearOci.Native;

namespace ClearOci.Shim;

/// <summary>One process of a task: the init (ExecId "") or an exec.</summary>
internal sealed class ShimProcess(string execId, string stdin, string stdout, string stderr, bool terminal)
{
    public string ExecId { get; } = execId;
    public string Stdin { get; } = stdin;
    public string Stdout { get; } = stdout;
    public string Stderr { get; } = stderr;
    public bool Terminal { get; } = terminal;
    public uint Pid { get; set; }
    public TaskState Status { get; set; } = TaskState.Created;
    public uint ExitStatus { get; set; }
    public DateTimeOffset? ExitedAt { get; set; }
    public ProcessIo? Io { get; set; }
    public string? SpecJson { get; init; }
    /// <summary>The name clearoci knows an exec by: unique per start, since containerd may reuse an exec id once deleted.</summary>
    public string ClearOciExecId { get; set; } = "";
    public TaskCompletionSource Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>One task (container) this shim hosts; each runs in its own clearoci VM.</summary>
internal sealed class ShimContainer(string id, string bundle, IReadOnlyList<MountSpec> rootfs, ClearOciCommands cli, ShimProcess init)
{
    public string Id { get; } = id;
    public string Bundle { get; } = bundle;
    public IReadOnlyList<MountSpec> Rootfs { get; } = rootfs;
    public ClearOciCommands Cli { get; } = cli;
    public ShimProcess Init { get; } = init;
    public Dictionary<string, ShimProcess> Execs { get; } = new();
    public bool Paused { get; set; }
    public int NextExec;
    /// <summary>Held across a start and the queueing of its event, and by exit handling: /tasks/start always precedes /tasks/exit.</summary>
    public SemaphoreSlim StartLock { get; } = new(1, 1);
    /// <summary>Publishes /tasks/oom for the container's OOM kills (OomMonitor.cs).</summary>
    public OomMonitor? Oom { get; set; }
}

/// <summary>
/// containerd.task.v2.Task (and v3, same messages) over the clearoci CLI, the way
/// containerd-shim-runc-v2 drives runc: create/start/kill/delete/exec/pause/resume/ps/update/
/// events --stats. The shim is a child subreaper, so each container's supervisor (the pid
/// `create` writes) and each exec relay end up as its children and their exit statuses are
/// the processes' exit statuses.
/// </summary>
internal sealed class TaskService
{
    public const string ServiceV2 = "containerd.task.v2.Task";
    public const string ServiceV3 = "containerd.task.v3.Task";

    private readonly ShimFlags _flags;
    private readonly CliRunner _cli;
    private readonly Reaper _reaper;
    private readonly EventPublisher _events;
    private readonly Action<string> _log;
    private readonly Dictionary<string, ShimContainer> _containers = new();
    private readonly HashSet<string> _creating = new();
    private readonly object _lock = new();

    public TaskService(ShimFlags flags, CliRunner cli, Reaper reaper, EventPublisher events, Action<string> log)
    {
        _flags = flags;
        _cli = cli;
        _reaper = reaper;
        _events = events;
        _log = log;
    }

    /// <summary>Set by Shutdown when nothing is left to host (or now=true): the daemon exits after replying.</summary>
    public bool ExitRequested { get; private set; }

    public int Count { get { lock (_lock) return _containers.Count + _creating.Count; } }

    public Task<byte[]> HandleAsync(string method, byte[] payload, CancellationToken ct)
    {
        _log($"{method}");
        return method switch
        {
            "Create" => CreateAsync(CreateTaskRequest.Decode(payload)),
            "Start" => StartAsync(ProcessRequest.Decode(payload)),
            "State" => Task.FromResult(State(ProcessRequest.Decode(payload))),
            "Delete" => DeleteAsync(ProcessRequest.Decode(payload)),
            "Kill" => KillAsync(KillRequest.Decode(payload)),
            "Exec" => Task.FromResult(Exec(ExecProcessRequest.Decode(payload))),
            "Wait" => WaitAsync(ProcessRequest.Decode(payload), ct),
            "Pids" => PidsAsync(ProcessRequest.Decode(payload)),
            "Pause" => PauseAsync(ProcessRequest.Decode(payload).Id, pause: true),
            "Resume" => PauseAsync(ProcessRequest.Decode(payload).Id, pause: false),
            "CloseIO" => Task.FromResult(CloseIo(CloseIoRequest.Decode(payload))),
            "ResizePty" => Task.FromResult(ResizePty(ResizePtyRequest.Decode(payload))),
            "Update" => UpdateAsync(UpdateTaskRequest.Decode(payload)),
            "Stats" => StatsAsync(ProcessRequest.Decode(payload).Id),
            "Connect" => Task.FromResult(Connect(ProcessRequest.Decode(payload).Id)),
            "Shutdown" => Task.FromResult(Shutdown(ShutdownRequest.Decode(payload))),
            "Checkpoint" => throw new RpcException(RpcCode.Unimplemented, "checkpoint is not supported by clearoci: not implemented"),
            _ => throw new RpcException(RpcCode.Unimplemented, $"method {method}"),
        };
    }

    private ShimContainer Get(string id)
    {
        lock (_lock)
            return _containers.TryGetValue(id, out var c) ? c : throw RpcException.NotFound($"container {id}");
    }

    private static ShimProcess Process(ShimContainer c, string execId)
    {
        if (execId.Length == 0) return c.Init;
        lock (c.Execs)
            return c.Execs.TryGetValue(execId, out var p) ? p : throw RpcException.NotFound($"process does not exist {execId}");
    }

    private async Task<byte[]> CreateAsync(CreateTaskRequest r)
    {
        if (r.Checkpoint.Length > 0) throw new RpcException(RpcCode.Unimplemented, "restore from a checkpoint: not implemented");
        lock (_lock)
        {
            if (_containers.ContainsKey(r.Id) || !_creating.Add(r.Id)) throw new RpcException(RpcCode.AlreadyExists, $"container {r.Id}: already exists");
        }
        string rootfsDir = Path.Combine(r.Bundle, "rootfs");
        bool mounted = false;
        ProcessIo? io = null;
        var cli = new ClearOciCommands(ShimNaming.ClearOciRoot(r.Bundle, _flags.Namespace), Path.Combine(r.Bundle, "log.json"), _flags.Debug);
        try
        {
            if (r.Rootfs.Count > 0)
            {
                Directory.CreateDirectory(rootfsDir);
                RootfsMounts.MountAll(r.Rootfs, rootfsDir);
                mounted = true;
            }
            Directory.CreateDirectory(cli.Root);
            io = ProcessIo.Open(r.Stdin, r.Stdout, r.Stderr, r.Terminal);
            string pidFile = Path.Combine(r.Bundle, "init.pid");
            var result = await _cli.RunAsync(cli.Create(r.Bundle, pidFile, r.Id, io.ConsoleSocket), stdio: io.Fds, cwd: r.Bundle).ConfigureAwait(false);
            io.CloseChildEnds();
            if (!result.Ok) throw Failed("create", cli, result);
            io.AttachTerminal();
            uint pid = ReadPid(pidFile);
            var init = new ShimProcess("", r.Stdin, r.Stdout, r.Stderr, r.Terminal) { Pid = pid, Io = io };
            var c = new ShimContainer(r.Id, r.Bundle, r.Rootfs, cli, init);
            lock (_lock)
            {
                _creating.Remove(r.Id);
                _containers[r.Id] = c;
            }
            WatchOom(c);
            WatchExit(c, init);
            _events.Publish(TaskEvent.Create(r.Id, r.Bundle, r.Rootfs, r.Stdin, r.Stdout, r.Stderr, r.Terminal, pid));
            return TaskResponses.Pid(pid);
        }
        catch (Exception e)
        {
            _log($"create {r.Id} failed: {e.Message}");
            io?.Dispose();
            try { await _cli.RunAsync(cli.Delete(r.Id, force: true), cwd: r.Bundle).ConfigureAwait(false); }
            catch (Exception d) { _log($"create {r.Id}: delete --force after the failure: {d.Message}"); }
            finally
            {
                if (mounted) RootfsMounts.Unmount(rootfsDir);
                lock (_lock) _creating.Remove(r.Id);
            }
            if (e is RpcException) throw;
            throw new RpcException(RpcCode.Unknown, e.Message);
        }
    }

    private static RpcException Failed(string verb, ClearOciCommands cli, CliResult result)
    {
        string? logged = null;
        try { if (File.Exists(cli.LogFile)) logged = ClearOciCommands.LastError(File.ReadAllText(cli.LogFile)); }
        catch (IOException) { }
        string message = logged ?? result.Stderr.Trim() switch { "" => $"exit status {result.ExitCode}", var s => s };
        if (message.StartsWith("clearoci: ", StringComparison.Ordinal)) message = message["clearoci: ".Length..];
        return new RpcException(RpcCode.Unknown, $"OCI runtime {verb} failed: {message}");
    }

    private static uint ReadPid(string pidFile)
    {
        string text = File.ReadAllText(pidFile).Trim();
        return uint.TryParse(text, out uint pid) && pid > 0 ? pid : throw new RpcException(RpcCode.Internal, $"{pidFile}: not a pid: {text}");
    }

    private void WatchOom(ShimContainer c)
    {
        try { c.Oom = OomMonitor.Start(_cli, c.Cli.Events(c.Id), c.Bundle, () => _events.Publish(TaskEvent.Oom(c.Id)), _log); }
        catch (Exception e) { _log($"{c.Id}: cannot follow its events, OOM kills will not be reported: {e.Message}"); }
    }

    /// <summary>The process's exit reaches us as the exit of its host-side stand-in (supervisor or exec relay).</summary>
    private void WatchExit(ShimContainer c, ShimProcess p)
    {
        _ = _reaper.Watch((int)p.Pid).ContinueWith(async t =>
        {
            // The OOM kill that ended the container is published before its exit (docker's OOMKilled).
            if (p.ExecId.Length == 0 && c.Oom is { } oom) await Task.WhenAny(oom.Done, Task.Delay(TimeSpan.FromSeconds(3))).ConfigureAwait(false);
            await c.StartLock.WaitAsync().ConfigureAwait(false);
            try
            {
                p.Status = TaskState.Stopped;
                p.ExitStatus = (uint)WaitStatus.ToExitCode(t.Result);
                p.ExitedAt = DateTimeOffset.UtcNow;
                p.Io?.Dispose();
                p.Io = null;
                if (p.ExecId.Length == 0) c.Paused = false;
                _log($"{c.Id}/{p.ExecId} exited with {p.ExitStatus}");
                _events.Publish(TaskEvent.Exit(c.Id, p.ExecId.Length == 0 ? c.Id : p.ExecId, p.Pid, p.ExitStatus, p.ExitedAt.Value));
            }
            finally { c.StartLock.Release(); }
            p.Exited.TrySetResult();
        }, TaskScheduler.Default);
    }

    private async Task<byte[]> StartAsync(ProcessRequest r)
    {
        var c = Get(r.Id);
        var p = Process(c, r.ExecId);
        await c.StartLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (p.Status != TaskState.Created) throw new RpcException(RpcCode.FailedPrecondition, $"process {Name(c, p)} is not in the created state");
            if (p.ExecId.Length == 0)
            {
                // An OOM right at the start is seen only if the events stream is already subscribed.
                if (c.Oom is { } oom) await Task.WhenAny(oom.Subscribed, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
                var result = await _cli.RunAsync(c.Cli.Start(c.Id), cwd: c.Bundle).ConfigureAwait(false);
                if (!result.Ok) throw Failed("start", c.Cli, result);
                p.Status = TaskState.Running;
                _events.Publish(TaskEvent.Start(c.Id, p.Pid));
            }
            else
            {
                await StartExecAsync(c, p).ConfigureAwait(false);
                _events.Publish(TaskEvent.ExecStarted(c.Id, p.ExecId, p.Pid));
            }
            return TaskResponses.Pid(p.Pid);
        }
        finally { c.StartLock.Release(); }
    }

    /// <summary>`clearoci exec --detach`: its relay (pid file) holds the stdio and exits with the process's status.</summary>
    private async Task StartExecAsync(ShimContainer c, ShimProcess p)
    {
        if (c.Init.Status != TaskState.Running) throw new RpcException(RpcCode.FailedPrecondition, $"container {c.Id} is not running");
        int n = Interlocked.Increment(ref c.NextExec);
        string processFile = Path.Combine(c.Bundle, $"exec-{n}.json"), pidFile = Path.Combine(c.Bundle, $"exec-{n}.pid");
        p.ClearOciExecId = $"{n}-{p.ExecId}";
        File.WriteAllText(processFile, p.SpecJson);
        var io = ProcessIo.Open(p.Stdin, p.Stdout, p.Stderr, p.Terminal);
        try
        {
            var result = await _cli.RunAsync(c.Cli.Exec(c.Id, p.ClearOciExecId, processFile, pidFile, io.ConsoleSocket), stdio: io.Fds, cwd: c.Bundle).ConfigureAwait(false);
            io.CloseChildEnds();
            if (!result.Ok) throw Failed("exec", c.Cli, result);
            io.AttachTerminal();
            p.Pid = ReadPid(pidFile);
            p.Io = io;
            p.Status = TaskState.Running;
            WatchExit(c, p);
        }
        catch
        {
            io.Dispose();
            throw;
        }
        finally
        {
            File.Delete(processFile);
            File.Delete(pidFile);
        }
    }

    private static string Name(ShimContainer c, ShimProcess p) => p.ExecId.Length == 0 ? c.Id : p.ExecId;

    private byte[] State(ProcessRequest r)
    {
        var c = Get(r.Id);
        var p = Process(c, r.ExecId);
        var status = p.Status == TaskState.Running && c.Paused ? TaskState.Paused : p.Status;
        return new StateResponse(c.Id, c.Bundle, p.Pid, status, p.Stdin, p.Stdout, p.Stderr, p.Terminal, p.ExitStatus, p.ExitedAt, p.ExecId).Encode();
    }

    private async Task<byte[]> DeleteAsync(ProcessRequest r)
    {
        var c = Get(r.Id);
        var p = Process(c, r.ExecId);
        if (p.Status is TaskState.Running or TaskState.Paused)
            throw new RpcException(RpcCode.Unknown, $"cannot delete a running process {Name(c, p)}");
        if (p.ExecId.Length > 0)
        {
            lock (c.Execs) c.Execs.Remove(p.ExecId);
            return TaskResponses.Delete(p.Pid, p.ExitStatus, p.ExitedAt);
        }
        // Created but never started: its VM is up; delete --force ends it and the supervisor's exit comes in.
        var result = await _cli.RunAsync(c.Cli.Delete(c.Id, force: true), cwd: c.Bundle).ConfigureAwait(false);
        if (!result.Ok) _log($"delete {c.Id}: {result.Stderr.Trim()}");
        if (p.Status == TaskState.Created)
            await p.Exited.Task.WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        if (c.Rootfs.Count > 0) RootfsMounts.Unmount(Path.Combine(c.Bundle, "rootfs"));
        lock (_lock) _containers.Remove(c.Id);
        _events.Publish(TaskEvent.Delete(c.Id, p.Pid, p.ExitStatus, p.ExitedAt));
        return TaskResponses.Delete(p.Pid, p.ExitStatus, p.ExitedAt);
    }

    private async Task<byte[]> KillAsync(KillRequest r)
    {
        var c = Get(r.Id);
        var p = Process(c, r.ExecId);
        if (p.Status == TaskState.Stopped) throw RpcException.NotFound("process already finished");
        if (p.ExecId.Length > 0)
        {
            if (p.Status == TaskState.Created) throw new RpcException(RpcCode.FailedPrecondition, $"process {p.ExecId} is not running");
        }
        // The guest process itself (init or exec); its host stand-in exits with its status.
        var result = await _cli.RunAsync(p.ExecId.Length > 0 ? c.Cli.KillExec(c.Id, p.ClearOciExecId, r.Signal) : c.Cli.Kill(c.Id, r.Signal, r.All), cwd: c.Bundle).ConfigureAwait(false);
        if (!result.Ok)
        {
            if (p.Status == TaskState.Stopped || p.Exited.Task.IsCompleted) throw RpcException.NotFound("process already finished");
            throw Failed("kill", c.Cli, result);
        }
        return [];
    }

    private byte[] Exec(ExecProcessRequest r)
    {
        var c = Get(r.Id);
        if (c.Init.Status == TaskState.Stopped) throw new RpcException(RpcCode.FailedPrecondition, $"container {c.Id} is stopped");
        if (r.Spec is null || r.Spec.Value.Length == 0) throw new RpcException(RpcCode.InvalidArgument, "exec without a process spec");
        string json = Encoding.UTF8.GetString(r.Spec.Value);
        try { using var _ = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new RpcException(RpcCode.InvalidArgument, $"exec process spec: {e.Message}"); }
        lock (c.Execs)
        {
            if (c.Execs.ContainsKey(r.ExecId)) throw new RpcException(RpcCode.AlreadyExists, $"id {r.ExecId}: already exists");
            c.Execs[r.ExecId] = new ShimProcess(r.ExecId, r.Stdin, r.Stdout, r.Stderr, r.Terminal) { SpecJson = json };
        }
        _events.Publish(TaskEvent.ExecAdded(c.Id, r.ExecId));
        return [];
    }

    private static async Task<byte[]> WaitAsync(ProcessRequest r, ShimContainer c, CancellationToken ct)
    {
        var p = Process(c, r.ExecId);
        await p.Exited.Task.WaitAsync(ct).ConfigureAwait(false);
        return TaskResponses.Wait(p.ExitStatus, p.ExitedAt);
    }

    private Task<byte[]> WaitAsync(ProcessRequest r, CancellationToken ct) => WaitAsync(r, Get(r.Id), ct);

    private Task<byte[]> PidsAsync(ProcessRequest r)
    {
        var c = Get(r.Id);
        var list = new List<(uint, AnyMessage?)>();
        // `clearoci ps` lists exactly the pid-file process (the container's processes live in the
        // guest), which this shim holds already: no CLI call.
        if (c.Init.Status is TaskState.Running or TaskState.Paused) list.Add((c.Init.Pid, null));
        lock (c.Execs)
            foreach (var p in c.Execs.Values)
                if (p.Status == TaskState.Running) list.Add((p.Pid, TaskResponses.ProcessDetails(p.ExecId)));
        return Task.FromResult(TaskResponses.Pids(list));
    }

    private async Task<byte[]> PauseAsync(string id, bool pause)
    {
        var c = Get(id);
        if (c.Init.Status != TaskState.Running) throw new RpcException(RpcCode.FailedPrecondition, $"container {id} is not running");
        if (c.Paused == pause) throw new RpcException(RpcCode.Unknown, pause ? $"container {id} is already paused" : $"container {id} is not paused");
        var result = await _cli.RunAsync(pause ? c.Cli.Pause(id) : c.Cli.Resume(id), cwd: c.Bundle).ConfigureAwait(false);
        if (!result.Ok) throw Failed(pause ? "pause" : "resume", c.Cli, result);
        c.Paused = pause;
        _events.Publish(pause ? TaskEvent.Paused(id) : TaskEvent.Resumed(id));
        return [];
    }

    private byte[] CloseIo(CloseIoRequest r)
    {
        var p = Process(Get(r.Id), r.ExecId);
        if (r.Stdin) p.Io?.CloseStdin();
        return [];
    }

    private byte[] ResizePty(ResizePtyRequest r)
    {
        Process(Get(r.Id), r.ExecId).Io?.Resize(r.Width, r.Height);
        return [];
    }

    private async Task<byte[]> UpdateAsync(UpdateTaskRequest r)
    {
        var c = Get(r.Id);
        if (r.Resources is null || r.Resources.Value.Length == 0) throw new RpcException(RpcCode.InvalidArgument, "update without resources");
        var result = await _cli.RunAsync(c.Cli.Update(c.Id), input: r.Resources.Value, cwd: c.Bundle).ConfigureAwait(false);
        if (!result.Ok) throw Failed("update", c.Cli, result);
        return [];
    }

    private async Task<byte[]> StatsAsync(string id)
    {
        var c = Get(id);
        var result = await _cli.RunAsync(c.Cli.Stats(c.Id), cwd: c.Bundle).ConfigureAwait(false);
        if (!result.Ok) throw Failed("events --stats", c.Cli, result);
        return TaskResponses.Stats(MetricsConverter.FromStatsJson(result.Stdout));
    }

    private byte[] Connect(string id)
    {
        uint taskPid = 0;
        lock (_lock) if (_containers.TryGetValue(id, out var c)) taskPid = c.Init.Pid;
        return TaskResponses.Connect((uint)Environment.ProcessId, taskPid, "clearoci");
    }

    private byte[] Shutdown(ShutdownRequest r)
    {
        if (r.Now || Count == 0) ExitRequested = true;
        return [];
    }

    /// <summary>SIGTERM or the end: every container still here is force-deleted and unmounted.</summary>
    public async Task CleanupAllAsync()
    {
        List<ShimContainer> all;
        lock (_lock) all = _containers.Values.ToList();
        foreach (var c in all)
        {
            await _cli.RunAsync(c.Cli.Delete(c.Id, force: true), cwd: c.Bundle).ConfigureAwait(false);
            if (c.Rootfs.Count > 0) RootfsMounts.Unmount(Path.Combine(c.Bundle, "rootfs"));
        }
    }
}

/// <summary>Mounts containerd's rootfs (usually one overlay) on BUNDLE/rootfs, and takes it down again.</summary>
internal static class RootfsMounts
{
    public static void MountAll(IReadOnlyList<MountSpec> mounts, string target)
    {
        foreach (var m in mounts)
        {
            var o = MountOptions.Parse(m.Options);
            ulong flags = o.Flags | (o.Bind ? Libc.MS_BIND | (o.Recursive ? Libc.MS_REC : 0) : 0);
            Libc.Mount(m.Source, target, m.Type == "bind" ? null : m.Type, flags, o.Data.Length == 0 ? null : o.Data);
        }
    }

    /// <summary>Unmounts everything stacked on <paramref name="target"/>; idempotent.</summary>
    public static void Unmount(string target)
    {
        for (int i = 0; i < 16; i++)
        {
            if (Libc.umount2(target, 0) == 0) continue;
            int errno = Libc.Errno;
            if (errno == Libc.EBUSY && Libc.umount2(target, Libc.MNT_DETACH) == 0) continue;
            return; // EINVAL: nothing (more) mounted there; ENOENT: gone
        }
    }
}
