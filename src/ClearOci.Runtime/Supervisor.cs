using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>
/// The long-lived process behind `create`: one per VM. It owns the VM (QEMU, virtiofsd, the agent
/// link), holds the container's stdio as its fds 0-2, answers the CLI's verbs on its socket,
/// forwards the signals it receives, and exits with the container's exit status, so the engine
/// that adopted it (containerd-shim, conmon) reaps the real code.
/// </summary>
public sealed class Supervisor
{
    private readonly StateStore _store;
    private readonly string _id;
    private ContainerSandbox _sandbox = null!;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Hooks? _hooks;
    private SignalForwarding _signals = null!;
    /// <summary>The VM's own container: the pod's later containers, added over the socket.</summary>
    private PodSandbox? _pod;
    /// <summary>A pod's later container (see <see cref="ForPodMember"/>): its stdin and its relay's pid.</summary>
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

    /// <summary>The verbs of a pod's later container, served by the pod's supervisor on that container's socket.</summary>
    internal static Supervisor ForPodMember(StateStore store, string id, ContainerSandbox sandbox, Hooks? hooks, Stream? stdin, int relayPid) =>
        new(store, id) { _sandbox = sandbox, _hooks = hooks, _memberStdin = stdin, _memberPid = relayPid };

    /// <summary>OOM kills of this container (not of a pod's other containers) go to `events` subscribers, before the exit they caused.</summary>
    internal void WatchOom() => _sandbox.Agent.OomKilled += o => { if (o.ContainerId == _id) _events.Publish("oom"); };

    /// <summary>The container stopped: `events` subscribers get what is queued, then the end of the feed.</summary>
    internal Task EndEventsAsync()
    {
        _events.Complete();
        return _events.DrainAsync(TimeSpan.FromSeconds(2));
    }

    /// <summary>Runs until the container exits; returns its exit status. Reports creation on <paramref name="readyFd"/>: 'R', or 'E' and the message.</summary>
    public static async Task<int> RunAsync(StateStore store, string id, string bundle, int readyFd, string? consoleSocket = null, int preserveFds = 0)
    {
        (OciSpec Spec, string Rootfs) config;
        try { config = ConfigLoader.Load(bundle); } // once for this process: everything below gets it
        catch (ClearOciException e)
        {
            try { Libc.WriteAll(readyFd, Encoding.UTF8.GetBytes("E" + e.Message)); } catch (ClearOciException) { }
            return 1;
        }
        if (PodSandbox.SandboxOf(store, id, config.Spec) is { } podSandbox)
            return PodSandbox.RunMember(store, id, bundle, config.Spec, podSandbox, readyFd, consoleSocket);
        var s = new Supervisor(store, id) { _signals = new() };
        return await s.RunAsync(bundle, config, readyFd, consoleSocket, preserveFds).ConfigureAwait(false);
    }

    private async Task<int> RunAsync(string bundle, (OciSpec Spec, string Rootfs) config, int readyFd, string? consoleSocket, int preserveFds)
    {
        Socket listener;
        try
        {
            var spec = config.Spec;
            int netns = HostNetwork.EnterFor(spec); // before the first await: main thread
            int pid = Environment.ProcessId;
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
            var stdio = new Stdio(null, Console.OpenStandardOutput(), Console.OpenStandardError());
            _sandbox = await ContainerSandbox.CreateAsync(_id, bundle, config, _store.Dir(_id), stdio, _signals.Token, consoleSocket, preserveFds,
                netns: netns).ConfigureAwait(false);
            HookRunner.Run("createContainer", _hooks?.CreateContainer, creating);
            _store.Update(_id, r => r with { Status = Status.Created });
            listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            var l = listener;
            UnixSocketPath.Use(_store.SocketPath(_id), path => { l.Bind(new UnixDomainSocketEndPoint(path)); return 0; });
            listener.Listen(16);
        }
        catch (Exception e)
        {
            DebugLog.Write($"supervisor: creation failed: {e}");
            string message = e is ClearOciException ? e.Message
                : e is OperationCanceledException && _signals.Received != 0 ? $"creation interrupted by signal {_signals.Received}"
                : $"internal error: {e}";
            try { Libc.WriteAll(readyFd, Encoding.UTF8.GetBytes("E" + message)); } catch (ClearOciException) { }
            if (_sandbox != null) await _sandbox.DisposeAsync().ConfigureAwait(false);
            return 1;
        }
        // The create that waits for this may be gone (killed): the container exists all the same.
        try { Libc.WriteAll(readyFd, "R"u8); } catch (ClearOciException) { }
        Libc.close(readyFd);

        WatchOom();
        _signals.ForwardTo(_sandbox);
        _pod = new PodSandbox(_store, _id, _sandbox);
        _sandbox.BeforePowerOff = _pod.StopAllAsync;
        using var cts = new CancellationTokenSource();
        var serving = ServeAsync(listener, cts.Token);
        int status = await _sandbox.WaitAsync().ConfigureAwait(false);
        _store.Update(_id, r => r with { Status = Status.Stopped, ExitStatus = status });
        await EndEventsAsync().ConfigureAwait(false);
        cts.Cancel();
        listener.Dispose();
        await _sandbox.DisposeAsync().ConfigureAwait(false);
        return status;
    }

    internal async Task ServeAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(ct).ConfigureAwait(false); }
            catch (Exception) { return; }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(Socket client)
    {
        using var _ = client;
        await using var stream = new NetworkStream(client, ownsSocket: false);
        int[] fds = [];
        try
        {
            byte[] buffer = new byte[1 << 20];
            var (length, received) = await Task.Run(() => FdPassing.Receive((int)client.Handle, buffer)).ConfigureAwait(false);
            fds = received;
            var request = JsonSerializer.Deserialize(buffer.AsSpan(0, length).TrimEnd((byte)'\n'), RuntimeJsonContext.Default.SupervisorRequest)
                ?? throw ClearOciException.Invalid("empty request");
            if (request.Op == "exec")
            {
                await ExecAsync(request, fds, stream).ConfigureAwait(false);
                fds = []; // owned by the exec's streams now
                return;
            }
            if (request.Op == "add")
            {
                var pod = _pod ?? throw ClearOciException.Invalid($"{_id} does not host a pod's containers");
                (var taken, fds) = (fds, []); // the container's stdio now
                await pod.AddAsync(request, taken, stream).ConfigureAwait(false);
                return;
            }
            if (request.Op == "events")
            {
                await _events.ServeAsync(stream).ConfigureAwait(false);
                return;
            }
            await ReplyAsync(stream, await DispatchAsync(request).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception e) { await ReplyAsync(stream, Failure(e)).ConfigureAwait(false); }
        finally { foreach (var fd in fds) Libc.close(fd); }
    }

    private static SupervisorResponse Failure(Exception e) => e is ClearOciException c
        ? new SupervisorResponse { Error = c.Message, Code = c.Code.ToString() }
        : new SupervisorResponse { Error = e.Message, Code = nameof(ErrorCode.Internal) };

    internal static async Task ReplyAsync(Stream stream, SupervisorResponse response)
    {
        byte[] reply = JsonSerializer.SerializeToUtf8Bytes(response, RuntimeJsonContext.Default.SupervisorResponse);
        try { await stream.WriteAsync(reply.Append((byte)'\n').ToArray()).ConfigureAwait(false); } catch (IOException) { }
    }

    /// <summary>exec: the caller's fds 0-2 become the process's stdio; one reply at the start, one at the exit.</summary>
    private async Task ExecAsync(SupervisorRequest request, int[] fds, Stream reply)
    {
        if (fds.Length != 3) throw ClearOciException.Invalid("exec needs the caller's three stdio fds");
        var status = StateStore.Effective(_store.Read(_id));
        if (status is not (Status.Created or Status.Running)) throw new ClearOciException(ErrorCode.InvalidState, status == Status.Paused ? "cannot exec in a paused container" : "cannot exec in a stopped container");
        // Raw writes: stdout and stderr may be one shared, even seekable, file of the caller's.
        var input = new RawFdStream(fds[0], canRead: true, canWrite: false);
        var output = new RawFdStream(fds[1], canRead: false, canWrite: true);
        var error = new RawFdStream(fds[2], canRead: false, canWrite: true);
        try
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var run = _sandbox.ExecAsync(request.ExecId ?? Guid.NewGuid().ToString("N"), request.Process ?? throw ClearOciException.Invalid("exec without a process"),
                input, output, error, () => started.TrySetResult(), request.ConsoleSocket);
            await Task.WhenAny(started.Task, run).ConfigureAwait(false);
            if (run.IsFaulted) await run.ConfigureAwait(false); // throws: the exec never started
            await ReplyAsync(reply, new SupervisorResponse()).ConfigureAwait(false);
            int exit = await run.ConfigureAwait(false);
            await ReplyAsync(reply, new SupervisorResponse { ExitStatus = exit }).ConfigureAwait(false);
        }
        finally
        {
            output.Dispose();
            error.Dispose();
            input.Dispose();
        }
    }

    /// <summary>Each verb checks the state and moves it under one lock, so two verbs never interleave.</summary>
    private async Task<SupervisorResponse> DispatchAsync(SupervisorRequest request)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            var status = _store.Read(_id).Status;
            switch (request.Op)
            {
                case "start":
                    Transitions.CheckStart(status);
                    HookRunner.Run("startContainer", _hooks?.StartContainer, _store.Read(_id).ToOciState(Status.Created));
                    await _sandbox.StartAsync(_memberStdin ?? Console.OpenStandardInput()).ConfigureAwait(false);
                    _started = true;
                    var running = _store.Update(_id, r => r with { Status = Status.Running });
                    HookRunner.RunBestEffort("poststart", _hooks?.Poststart, running.ToOciState(Status.Running));
                    break;
                case "kill":
                    Transitions.CheckKill(status);
                    if (status == Status.Paused && request.Signal == 9) await _sandbox.ResumeAsync().ConfigureAwait(false);
                    await _sandbox.SignalAsync(request.Signal, request.ExecId ?? "").ConfigureAwait(false);
                    break;
                case "pause":
                    Transitions.CheckPause(status);
                    await _sandbox.PauseAsync().ConfigureAwait(false);
                    _store.Update(_id, r => r with { Status = Status.Paused });
                    break;
                case "resume":
                    Transitions.CheckResume(status);
                    await _sandbox.ResumeAsync().ConfigureAwait(false);
                    _store.Update(_id, r => r with { Status = _started ? Status.Running : Status.Created });
                    break;
                case "update":
                    Transitions.CheckKill(status); // created, running or paused: there is a VM to change
                    await _sandbox.UpdateAsync(request.Resources ?? throw ClearOciException.Invalid("update without resources")).ConfigureAwait(false);
                    break;
                case "stats":
                    return new SupervisorResponse { Stats = await _sandbox.StatsAsync().ConfigureAwait(false) };
                case "ps":
                    return new SupervisorResponse { Pids = [_memberPid != 0 ? _memberPid : Environment.ProcessId] };
                default:
                    throw ClearOciException.Invalid($"unknown supervisor request {request.Op}");
            }
            return new SupervisorResponse();
        }
        finally { _lock.Release(); }
    }
}
