using System.Text;
using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Shim;

/// <summary>
/// containerd.task.v2.Task (and v3, same messages) over ClearOci.Runtime's Lifecycle in-process:
/// every verb is a call whose errors keep their codes (RuntimeErrors). `Create` and an exec's
/// `Start` hand the process's stdio (ProcessIo) to the child Lifecycle spawns, the container's
/// supervisor or the exec's relay, as its fds 0-2. Those children are the shim's (it is a child
/// subreaper besides), and their exit statuses are the processes' exit statuses.
/// </summary>
internal sealed class TaskService
{
    public const string ServiceV2 = "containerd.task.v2.Task";
    public const string ServiceV3 = "containerd.task.v3.Task";

    private readonly ShimFlags _flags;
    /// <summary>The clearoci executable: Lifecycle runs it as the supervisor (`supervise`) and the exec relay.</summary>
    private readonly string _clearoci;
    private readonly Reaper _reaper;
    private readonly EventPublisher _events;
    private readonly Action<string> _log;
    private readonly Dictionary<string, ShimContainer> _containers = new();
    private readonly HashSet<string> _creating = new();
    private readonly object _lock = new();

    public TaskService(ShimFlags flags, string clearoci, Reaper reaper, EventPublisher events, Action<string> log)
    {
        _flags = flags;
        _clearoci = clearoci;
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
        int created = 0; // the supervisor, once Lifecycle.Create has made the container: this create's to end if what follows fails
        ProcessIo? io = null;
        string root = ShimNaming.ClearOciRoot(r.Bundle, _flags.Namespace);
        var globalArgs = ShimNaming.ClearOciGlobalArgs(root, Path.Combine(r.Bundle, "log.json"), _flags.Debug);
        var runtime = new Lifecycle(new StateStore(root));
        try
        {
            if (r.Rootfs.Count > 0)
            {
                Directory.CreateDirectory(rootfsDir);
                RootfsMounts.MountAll(r.Rootfs, rootfsDir);
                mounted = true;
            }
            io = ProcessIo.Open(r.Stdin, r.Stdout, r.Stderr, r.Terminal);
            var request = new CreateRequest
            {
                Id = r.Id, Bundle = r.Bundle, PidFile = Path.Combine(r.Bundle, "init.pid"), ConsoleSocket = io.ConsoleSocket,
                Self = _clearoci, GlobalArgs = globalArgs, StdioFds = io.Fds,
            };
            // The id, an id clearoci has state for (AlreadyExists), the config (InvalidArgument), the
            // VM's boot and the container's creation: each failure keeps its code, and Lifecycle
            // leaves no state behind.
            try { created = await RuntimeErrors.RunAsync("create", () => runtime.Create(request)).ConfigureAwait(false); }
            finally { io.CloseChildEnds(); }
            io.AttachTerminal();
            uint pid = (uint)created;
            var init = new ShimProcess("", r.Stdin, r.Stdout, r.Stderr, r.Terminal) { Pid = pid, Io = io };
            var c = new ShimContainer(r.Id, r.Bundle, r.Rootfs, runtime, globalArgs, init);
            lock (_lock)
            {
                _creating.Remove(r.Id);
                _containers[r.Id] = c;
            }
            WatchEvents(c);
            WatchExit(c, init);
            _events.Publish(TaskEvent.Create(r.Id, r.Bundle, r.Rootfs, r.Stdin, r.Stdout, r.Stderr, r.Terminal, pid));
            return TaskResponses.Pid(pid);
        }
        catch (Exception e)
        {
            _log($"create {r.Id} failed: {e.Message}");
            io?.Dispose();
            try
            {
                if (created > 0) await RuntimeErrors.RunAsync("delete", () => runtime.Delete(r.Id, force: true)).ConfigureAwait(false);
            }
            catch (RpcException d) { _log($"create {r.Id}: delete --force after the failure: {d.Message}"); }
            finally
            {
                if (mounted) RootfsMounts.Unmount(rootfsDir);
                lock (_lock) _creating.Remove(r.Id);
            }
            if (e is RpcException) throw;
            throw new RpcException(RpcCode.Unknown, e.Message);
        }
    }

    /// <summary>Subscribes in-process to the container's events and publishes /tasks/oom for each OOM kill.</summary>
    private void WatchEvents(ShimContainer c)
    {
        var subscribed = Task.Run(() => c.Runtime.SubscribeEventsAsync(c.Id, type =>
        {
            if (type == "oom") _events.Publish(TaskEvent.Oom(c.Id));
        }, c.Gone.Token));
        c.EventsSubscribed = subscribed;
        c.EventsDone = subscribed.Unwrap().ContinueWith(t =>
        {
            if (t.IsFaulted) _log($"{c.Id}: its events: {t.Exception!.GetBaseException().Message}; OOM kills may not be reported");
        }, TaskScheduler.Default);
    }

    /// <summary>The process's exit reaches us as the exit of its host-side stand-in (supervisor or exec relay).</summary>
    private void WatchExit(ShimContainer c, ShimProcess p)
    {
        _ = _reaper.Watch((int)p.Pid).ContinueWith(async t =>
        {
            // The OOM kill that ended the container is published before its exit (docker's OOMKilled).
            if (p.ExecId.Length == 0) await Task.WhenAny(c.EventsDone, Task.Delay(TimeSpan.FromSeconds(3))).ConfigureAwait(false);
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
                // An OOM right at the start is seen only if the events are already subscribed.
                await Task.WhenAny(c.EventsSubscribed, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
                await RuntimeErrors.RunAsync("start", () => c.Runtime.Start(c.Id)).ConfigureAwait(false);
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

    /// <summary>
    /// Lifecycle.ExecDetached: a relay (`clearoci exec --ready-fd`, the shim's child) holds the
    /// exec's stdio as its fds 0-2 and exits with the process's status. Lifecycle refuses an exec
    /// the container's state does not allow (paused, stopped: FailedPrecondition); the relay's
    /// own failure comes back over its ready pipe with clearoci's code.
    /// </summary>
    private async Task StartExecAsync(ShimContainer c, ShimProcess p)
    {
        int n = Interlocked.Increment(ref c.NextExec);
        string processFile = Path.Combine(c.Bundle, $"exec-{n}.json");
        p.ClearOciExecId = $"{n}-{p.ExecId}";
        File.WriteAllText(processFile, p.SpecJson);
        var io = ProcessIo.Open(p.Stdin, p.Stdout, p.Stderr, p.Terminal);
        int relay = 0;
        try
        {
            try
            {
                relay = await RuntimeErrors.RunAsync("exec", () => c.Runtime.ExecDetached(c.Id, processFile, pidFile: null, _clearoci, c.GlobalArgs,
                    io.ConsoleSocket, p.ClearOciExecId, io.Fds)).ConfigureAwait(false);
            }
            finally { io.CloseChildEnds(); }
            io.AttachTerminal();
            p.Pid = (uint)relay;
            p.Io = io;
            p.Status = TaskState.Running;
            WatchExit(c, p);
        }
        catch
        {
            io.Dispose();
            if (relay > 0)
            {
                // It runs, but its terminal never came: end it rather than leave a process nobody tracks.
                try { await RuntimeErrors.RunAsync("kill", () => c.Runtime.Kill(c.Id, 9, p.ClearOciExecId)).ConfigureAwait(false); }
                catch (RpcException e) { _log($"exec {p.ExecId}: kill after the failure: {e.Message}"); }
            }
            throw;
        }
        finally { File.Delete(processFile); } // the relay has read it once it is ready
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
            throw new RpcException(RpcCode.FailedPrecondition, $"cannot delete a running process {Name(c, p)}");
        if (p.ExecId.Length > 0)
        {
            lock (c.Execs) c.Execs.Remove(p.ExecId);
            return TaskResponses.Delete(p.Pid, p.ExitStatus, p.ExitedAt);
        }
        // Created but never started: its VM is up; delete --force ends it and the supervisor's exit comes in.
        try { await RuntimeErrors.RunAsync("delete", () => c.Runtime.Delete(c.Id, force: true)).ConfigureAwait(false); }
        catch (RpcException e) { _log($"delete {c.Id}: {e.Message}"); }
        c.Gone.Cancel();
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
        // The guest process itself (init or exec); its host stand-in exits with its status. `all`
        // needs nothing more: the container's other processes end with its VM (or its pod cgroup).
        try
        {
            await RuntimeErrors.RunAsync("kill", () => c.Runtime.Kill(c.Id, (int)r.Signal, p.ExecId.Length > 0 ? p.ClearOciExecId : null)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // It ended while the signal was on its way: containerd's "kill after exit" is NotFound.
            if (await HasExitedAsync(p).ConfigureAwait(false)) throw RpcException.NotFound("process already finished");
            throw;
        }
        return [];
    }

    /// <summary>Whether the process has exited or its stand-in's exit is being reaped right now.</summary>
    private static async Task<bool> HasExitedAsync(ShimProcess p)
    {
        await Task.WhenAny(p.Exited.Task, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        return p.Exited.Task.IsCompleted;
    }

    private byte[] Exec(ExecProcessRequest r)
    {
        var c = Get(r.Id);
        if (c.Init.Status == TaskState.Stopped) throw new RpcException(RpcCode.FailedPrecondition, $"container {c.Id} is stopped");
        if (r.Spec is null || r.Spec.Value.Length == 0) throw new RpcException(RpcCode.InvalidArgument, "exec without a process spec");
        // Checked at Exec, before /tasks/exec-added, as well as by Lifecycle at Start: a bad spec is InvalidArgument.
        try { ConfigLoader.ParseProcess(r.Spec.Value, "exec process"); }
        catch (ClearOciException e) { throw RuntimeErrors.ToRpc("exec", e); }
        string json = Encoding.UTF8.GetString(r.Spec.Value);
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
        // Paused twice, resumed unpaused: ClearOci's transitions refuse them (InvalidState, FailedPrecondition here).
        if (pause) await RuntimeErrors.RunAsync("pause", () => c.Runtime.Pause(id)).ConfigureAwait(false);
        else await RuntimeErrors.RunAsync("resume", () => c.Runtime.Resume(id)).ConfigureAwait(false);
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
        byte[] resources = r.Resources.Value;
        await RuntimeErrors.RunAsync("update", () => c.Runtime.Update(c.Id, resources, "resources")).ConfigureAwait(false);
        return [];
    }

    private async Task<byte[]> StatsAsync(string id)
    {
        var c = Get(id);
        var stats = await RuntimeErrors.RunAsync("stats", () => c.Runtime.StatsEvent(c.Id)).ConfigureAwait(false);
        return TaskResponses.Stats(MetricsConverter.FromStatsEvent(stats));
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
            try { await RuntimeErrors.RunAsync("delete", () => c.Runtime.Delete(c.Id, force: true)).ConfigureAwait(false); }
            catch (RpcException e) { _log($"delete {c.Id}: {e.Message}"); }
            c.Gone.Cancel();
            if (c.Rootfs.Count > 0) RootfsMounts.Unmount(Path.Combine(c.Bundle, "rootfs"));
        }
    }
}
