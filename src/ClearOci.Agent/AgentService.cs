using System.Collections.Concurrent;
using ClearOci.Native;
using ClearOci.Protocol;

namespace ClearOci.Agent;

/// <summary>Serves the host: one control loop, one io loop, one reaper. Requests run concurrently.</summary>
internal sealed class AgentService
{
    private readonly ControlChannel _control;
    private readonly IoChannel _io;
    private readonly long _startNs;
    private readonly Reaper _reaper = new();
    private readonly ConcurrentDictionary<string, GuestContainer> _containers = new();
    private readonly ConcurrentDictionary<uint, StdinSink> _stdin = new();
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly GuestDnsRelay _dns;

    public AgentService(Stream control, Stream io, long startNs)
    {
        _control = new ControlChannel(control);
        _io = new IoChannel(io);
        _startNs = startNs;
        _dns = new GuestDnsRelay(q => _control.SendAsync(q));
    }

    public IoChannel Io => _io;
    public Reaper Reaper => _reaper;

    public async Task RunAsync()
    {
        new Thread(_reaper.ReapAll) { IsBackground = true, Name = "reaper" }.Start();
        _ = Task.Run(IoLoopAsync);
        await _control.SendAsync(new Hello
        {
            Version = ProtocolInfo.Version,
            KernelRelease = File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
            AgentStartNs = _startNs,
            AgentReadyNs = Libc.BootTimeNs(),
        });
        var loop = Task.Run(ControlLoopAsync);
        await Task.WhenAny(loop, _shutdown.Task);
    }

    private async Task ControlLoopAsync()
    {
        while (await _control.ReceiveAsync() is { } message)
        {
            if (message is DnsAnswer answer) _dns.Answer(answer); // answers a query of ours: no response
            else _ = Task.Run(() => HandleAsync(message));
        }
        // The host went away: nothing can reach this guest any more.
        _shutdown.TrySetResult();
    }

    private async Task HandleAsync(Message message)
    {
        Response response;
        try
        {
            response = message switch
            {
                CreateContainer m => await CreateAsync(m),
                StartProcess m => await Container(m.ContainerId).StartAsync(m.ExecId),
                ExecProcess m => await Container(m.ContainerId).ExecAsync(m),
                SignalProcess m => Container(m.ContainerId).Signal(m.ExecId, m.Signal),
                ResizeTerminal m => Container(m.ContainerId).Resize(m.ExecId, m.Rows, m.Cols),
                GetStats m => new Response { Stats = Container(m.ContainerId).Stats() },
                UpdateResources m => Container(m.ContainerId).Update(m.ResourcesJson),
                FreezeContainer m => await Container(m.ContainerId).FreezeAsync(m.Frozen),
                ConfigureNetwork m => ConfigureNetwork(m),
                Shutdown => BeginShutdown(),
                _ => throw new ClearOciException(ErrorCode.Agent, $"unexpected message {message.GetType().Name}"),
            };
        }
        catch (ClearOciException e) { response = new Response { Error = e.Message, Code = e.Code.ToString() }; }
        catch (Exception e) { response = new Response { Error = e.Message, Code = nameof(ErrorCode.Internal) }; }
        await _control.SendAsync(response with { Id = message.Id });
    }

    private Response ConfigureNetwork(ConfigureNetwork m)
    {
        var response = GuestNetwork.Configure(m); // lo is up from here: the relay can bind its addresses
        _dns.Listen(m.DnsRelay);
        return response;
    }

    private Response BeginShutdown()
    {
        _shutdown.TrySetResult();
        return new Response();
    }

    private GuestContainer Container(string id) =>
        _containers.TryGetValue(id, out var c) ? c : throw new ClearOciException(ErrorCode.NotFound, $"container {id} does not exist in the guest");

    private async Task<Response> CreateAsync(CreateContainer m)
    {
        var container = new GuestContainer(this, m.ContainerId);
        if (!_containers.TryAdd(m.ContainerId, container))
            throw new ClearOciException(ErrorCode.AlreadyExists, $"container {m.ContainerId} exists in the guest");
        try
        {
            int pid = await container.CreateAsync(m);
            container.ConfigureGuestEtc();
            return new Response { Pid = pid };
        }
        catch
        {
            _containers.TryRemove(m.ContainerId, out _);
            container.Dispose();
            throw;
        }
    }

    public void AddStdin(uint stream, int fd) => _stdin[stream] = new StdinSink(fd);

    public Task SendExitedAsync(ProcessExited e) => _control.SendAsync(e);

    /// <summary>Sent synchronously: the caller orders it before the exit of the process it killed.</summary>
    public void SendOomKilled(string id)
    {
        GuestBoot.Log($"{id}: a process was killed for lack of memory");
        try { _control.SendAsync(new OomKilled { ContainerId = id }).GetAwaiter().GetResult(); }
        catch (Exception e) { GuestBoot.Log($"reporting an OOM kill in {id}: {e.Message}"); }
    }

    private async Task IoLoopAsync()
    {
        try
        {
            while (await _io.ReceiveAsync() is { } frame)
            {
                if (!_stdin.TryGetValue(frame.Stream, out var sink)) continue;
                if (frame.Eof) { _stdin.TryRemove(frame.Stream, out _); sink.Complete(); }
                else sink.Write(frame.Data);
            }
        }
        catch (Exception e) { GuestBoot.Log($"io loop: {e.Message}"); }
    }
}
