using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>
/// The long-lived process behind every container (`create`, `run` and `run --detach` alike): one
/// per VM. It owns the VM (QEMU, virtiofsd, the agent link), holds the container's stdio as its
/// fds 0-2, answers the verbs on the container's socket, forwards the signals it receives, and
/// exits with the container's exit status, so whoever waits for it (`run` in the foreground, the
/// engine that adopted it: containerd-shim, conmon) reaps the real code. A pod's sandbox
/// supervisor also hosts its later containers, each on its own socket, the same way (<see cref="HostAsync(StateStore, string, ContainerSandbox, Hooks?, Stream?, int, PodSandbox?, Action, Task?)"/>).
/// </summary>
public sealed class Supervisor
{
    private readonly StateStore _store;
    private readonly string _id;
    private ContainerSandbox _sandbox = null!;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Hooks? _hooks;
    /// <summary>The VM's own container: the pod's later containers, added over the socket.</summary>
    private PodSandbox? _pod;
    /// <summary>A pod's later container (see <see cref="HostAsync(StateStore, string, ContainerSandbox, Hooks?, Stream?, int, PodSandbox?, Action, Task?)"/>): its stdin and its relay's pid.</summary>
    private Stream? _memberStdin;
    private int _memberPid;
    /// <summary>The container's process was started: a resume makes it running again, else created.</summary>
    private bool _started;
    private readonly EventFeed _events = new();

    private Supervisor(StateStore store, string id)
    {
        _store = store;
        _id = id;
    }

    /// <summary>OOM kills of this container (not of a pod's other containers) go to `events` subscribers, before the exit they caused.</summary>
    private void WatchOom() => _sandbox.Agent.OomKilled += o => { if (o.ContainerId == _id) _events.Publish("oom"); };

    /// <summary>The container stopped: `events` subscribers get what is queued, then the end of the feed.</summary>
    private Task EndEventsAsync()
    {
        _events.Complete();
        return _events.DrainAsync(TimeSpan.FromSeconds(2));
    }

    /// <summary>Records the container's end in its state (once: a later exit report changes nothing).</summary>
    private void MarkStopped(int status)
    {
        if (!_store.Exists(_id)) return; // deleted already (delete --force while it ran)
        try { _store.Update(_id, r => Transitions.Refusal(Operation.Exited, r.Status) is null ? r with { Status = Status.Stopped, ExitStatus = status } : r); }
        catch (IOException) { /* the directory went away meanwhile */ }
    }

    /// <summary>Runs until the container exits; returns its exit status. Reports creation on <paramref name="readyFd"/> (<see cref="ReadyPipe"/>).</summary>
    public static async Task<int> RunAsync(StateStore store, string id, string bundle, int readyFd, string? consoleSocket = null, int preserveFds = 0)
    {
        (OciSpec Spec, string Rootfs) config;
        try { config = ConfigLoader.Load(bundle); } // once for this process: everything below gets it
        catch (ClearOciException e)
        {
            ReadyPipe.Fail(readyFd, e);
            return 1;
        }
        if (PodSandbox.SandboxOf(store, id, config.Spec) is { } podSandbox)
            return PodSandbox.RunMember(store, id, bundle, config.Spec, podSandbox, readyFd, consoleSocket);
        using var signals = new SignalForwarding();
        var s = new Supervisor(store, id);
        return await s.RunAsync(bundle, config, readyFd, consoleSocket, preserveFds, signals).ConfigureAwait(false);
    }

    private async Task<int> RunAsync(string bundle, (OciSpec Spec, string Rootfs) config, int readyFd, string? consoleSocket, int preserveFds, SignalForwarding signals)
    {
        ContainerSandbox sandbox;
        try
        {
            var spec = config.Spec;
            int netns = HostNetwork.EnterFor(spec); // before the first await: main thread
            int pid = Environment.ProcessId; // create records it too; the hooks below need it already (docker's finds the namespace by it)
            var record = _store.Update(_id, r => r with { SupervisorPid = pid, SupervisorStartTime = ProcessIdentity.StartTime(pid) });
            _hooks = spec.Hooks;
            var creating = record.ToOciState(Status.Creating);
            try
            {
                // Before the VM boots: docker's prestart hook (libnetwork-setkey) moves the container's
                // veth into this process's namespace, and the VM mirrors what is there when it boots.
                HookRunner.Run("prestart", _hooks?.Prestart, creating);
                HookRunner.Run("createRuntime", _hooks?.CreateRuntime, creating);
            }
            catch
            {
                if (netns >= 0) Libc.close(netns);
                throw;
            }
            var stdio = new Stdio(null, StandardStreams.OpenOutput(), StandardStreams.OpenError());
            sandbox = await ContainerSandbox.CreateAsync(_id, bundle, config, _store.Dir(_id), stdio, signals.Token, consoleSocket, preserveFds,
                netns: netns).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return Failed(e);
        }
        _pod = new PodSandbox(_store, _id, sandbox);
        sandbox.BeforePowerOff = _pod.StopAllAsync;
        bool reported = false;
        try
        {
            return await HostAsync(sandbox, () =>
            {
                signals.ForwardTo(sandbox);
                reported = true;
                ReadyPipe.Ready(readyFd); // the create that waits for this may be gone (killed): the container exists all the same
            }, abandoned: null).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
            if (!reported) return Failed(e);
            DebugLog.Write($"supervisor: {e}");
            MarkStopped(255);
            return 255;
        }

        int Failed(Exception e)
        {
            DebugLog.Write($"supervisor: creation failed: {e}");
            ReadyPipe.Fail(readyFd, e is OperationCanceledException && signals.Received != 0
                ? new ClearOciException(ErrorCode.System, $"creation interrupted by signal {signals.Received}")
                : e);
            return signals.Received != 0 ? 128 + signals.Received : 1;
        }
    }

    /// <summary>
    /// The life of one hosted container once its sandbox has it (booted for it, or joined to a
    /// pod's VM), the same for every container: createContainer hooks, `created` in its state, its
    /// socket; then <paramref name="ready"/>, its verbs served until its process ends (or
    /// <paramref name="abandoned"/> completes first: then it is killed), `stopped` with its status,
    /// the end of its events, and its sandbox disposed. Returns the exit status. A failure before
    /// <paramref name="ready"/> is thrown; the caller disposes the sandbox.
    /// </summary>
    internal static async Task<int> HostAsync(StateStore store, string id, ContainerSandbox sandbox, Hooks? hooks, Stream? stdin, int psPid,
        PodSandbox? pod, Action ready, Task? abandoned)
    {
        var s = new Supervisor(store, id) { _hooks = hooks, _memberStdin = stdin, _memberPid = psPid, _pod = pod };
        return await s.HostAsync(sandbox, ready, abandoned).ConfigureAwait(false);
    }

    private async Task<int> HostAsync(ContainerSandbox sandbox, Action ready, Task? abandoned)
    {
        _sandbox = sandbox;
        HookRunner.Run("createContainer", _hooks?.CreateContainer, _store.Read(_id).ToOciState(Status.Creating));
        var socket = SupervisorSocket.Listen(_store.SocketPath(_id));
        using var cts = new CancellationTokenSource();
        int status;
        try
        {
            _store.Update(_id, r => r with { Status = Transitions.Next(Operation.Created, r.Status, started: false, _id) });
            ready();
            WatchOom();
            var serving = socket.ServeAsync(HandleAsync, cts.Token);
            var exited = sandbox.WaitAsync();
            if (abandoned != null && await Task.WhenAny(exited, abandoned).ConfigureAwait(false) == abandoned && !exited.IsCompleted)
            {
                DebugLog.Write($"{_id}: the process waiting for it went away; killing it");
                try { await sandbox.SignalAsync(9).ConfigureAwait(false); } catch (ClearOciException) { }
            }
            status = await exited.ConfigureAwait(false);
            MarkStopped(status);
            await EndEventsAsync().ConfigureAwait(false);
        }
        finally
        {
            cts.Cancel();
            socket.Dispose();
        }
        await sandbox.DisposeAsync().ConfigureAwait(false);
        return status;
    }

    /// <summary>The one dispatcher: every request of the container's socket comes through here.</summary>
    private async Task HandleAsync(SupervisorRequest request, int[] fds, Stream reply)
    {
        switch (request)
        {
            case ExecRequest exec:
                await ExecAsync(exec, fds, reply).ConfigureAwait(false); // the fds are the exec's streams now
                return;
            case AddRequest add:
                var pod = _pod;
                if (pod is null)
                {
                    foreach (int fd in fds) Libc.close(fd);
                    throw ClearOciException.Invalid($"{_id} does not host a pod's containers");
                }
                await pod.AddAsync(add, fds, reply).ConfigureAwait(false); // the container's stdio now
                return;
        }
        foreach (int fd in fds) Libc.close(fd); // no other request carries fds
        if (request is EventsRequest)
        {
            await _events.ServeAsync(reply).ConfigureAwait(false);
            return;
        }
        await SupervisorSocket.ReplyAsync(reply, await DispatchAsync(request).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>exec: the caller's fds 0-2 become the process's stdio; one reply at the start, one at the exit.</summary>
    private async Task ExecAsync(ExecRequest request, int[] fds, Stream reply)
    {
        // Raw writes: stdout and stderr may be one shared, even seekable, file of the caller's.
        var streams = fds.Length == 3
            ? (Input: new RawFdStream(fds[0], canRead: true, canWrite: false), Output: new RawFdStream(fds[1], canRead: false, canWrite: true),
                Error: new RawFdStream(fds[2], canRead: false, canWrite: true))
            : default;
        if (streams.Input is null)
        {
            foreach (int fd in fds) Libc.close(fd);
            throw ClearOciException.Invalid("exec needs the caller's three stdio fds");
        }
        try
        {
            Transitions.Check(Operation.Exec, _store.Read(_id).Status, _id);
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var run = _sandbox.ExecAsync(request.ExecId, request.ProcessJson, streams.Input, streams.Output, streams.Error, () => started.TrySetResult(), request.ConsoleSocket);
            await Task.WhenAny(started.Task, run).ConfigureAwait(false);
            if (run.IsFaulted) await run.ConfigureAwait(false); // throws: the exec never started
            await SupervisorSocket.ReplyAsync(reply, SupervisorReply.Ok).ConfigureAwait(false);
            int exit = await run.ConfigureAwait(false);
            await SupervisorSocket.ReplyAsync(reply, new SupervisorReply { ExitStatus = exit }).ConfigureAwait(false);
        }
        finally
        {
            streams.Output.Dispose();
            streams.Error.Dispose();
            streams.Input.Dispose();
        }
    }

    /// <summary>Each verb is checked against the state machine and moves it under one lock, so two verbs never interleave.</summary>
    private async Task<SupervisorReply> DispatchAsync(SupervisorRequest request)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            var status = _store.Read(_id).Status;
            var next = Transitions.Next(request.Operation, status, _started, _id);
            switch (request)
            {
                case StartRequest:
                    HookRunner.Run("startContainer", _hooks?.StartContainer, _store.Read(_id).ToOciState(Status.Created));
                    await _sandbox.StartAsync(_memberStdin ?? StandardStreams.OpenInput()).ConfigureAwait(false);
                    _started = true;
                    var running = _store.Update(_id, r => r with { Status = next });
                    HookRunner.RunBestEffort("poststart", _hooks?.Poststart, running.ToOciState(Status.Running));
                    return SupervisorReply.Ok;
                case KillRequest kill:
                    if (status == Status.Paused && kill.Signal == 9) await _sandbox.ResumeAsync().ConfigureAwait(false);
                    await _sandbox.SignalAsync(kill.Signal, kill.ExecId ?? "").ConfigureAwait(false);
                    return SupervisorReply.Ok;
                case PauseRequest:
                    await _sandbox.PauseAsync().ConfigureAwait(false);
                    _store.Update(_id, r => r with { Status = next });
                    return SupervisorReply.Ok;
                case ResumeRequest:
                    await _sandbox.ResumeAsync().ConfigureAwait(false);
                    _store.Update(_id, r => r with { Status = next });
                    return SupervisorReply.Ok;
                case UpdateRequest update:
                    await _sandbox.UpdateAsync(update.ResourcesJson).ConfigureAwait(false);
                    return SupervisorReply.Ok;
                case StatsRequest:
                    return new SupervisorReply { Stats = await _sandbox.StatsAsync().ConfigureAwait(false) };
                case PsRequest:
                    return new SupervisorReply { Pids = [_memberPid != 0 ? _memberPid : Environment.ProcessId] };
                default:
                    throw ClearOciException.Invalid($"the supervisor does not handle {request.GetType().Name} here");
            }
        }
        finally { _lock.Release(); }
    }
}
