using System.Collections.Concurrent;
using ClearOci.Protocol;

namespace ClearOci.Runtime;

/// <summary>
/// The host end of the agent protocol: correlates requests with responses, collects exit events,
/// and routes io frames to the streams attached to them.
/// </summary>
public sealed class AgentClient : IDisposable
{
    private readonly ControlChannel _control;
    private readonly IoChannel _io;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<Response>> _pending = new();
    // Exit statuses by "container/exec": each is consumed by exactly one waiter, then forgotten,
    // so a reused exec id never sees an earlier run's status.
    private readonly Dictionary<string, ExitSlot> _exits = new();
    private readonly Lock _exitsLock = new();
    private readonly ConcurrentDictionary<uint, OutputTarget> _outputs = new();
    private readonly TaskCompletionSource<Hello> _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextId;
    private volatile Exception? _broken;

    public AgentClient(Stream control, Stream io)
    {
        _control = new ControlChannel(control);
        _io = new IoChannel(io);
        _ = Task.Run(ControlLoopAsync);
        _ = Task.Run(IoLoopAsync);
    }

    public Task<Hello> HelloAsync(CancellationToken ct) => _hello.Task.WaitAsync(ct);

    /// <summary>Sends a request and returns its response; a guest-side failure becomes a ClearOciException.</summary>
    public async Task<Response> RequestAsync(Message request, CancellationToken ct = default)
    {
        if (_broken is { } b) throw Broken(b);
        long id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<Response>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        try
        {
            await _control.SendAsync(request with { Id = id }, ct).ConfigureAwait(false);
            var response = await tcs.Task.WaitAsync(ct).ConfigureAwait(false);
            if (response.Error is { } error)
                throw new ClearOciException(Enum.TryParse<ErrorCode>(response.Code, out var code) ? code : ErrorCode.Agent, error);
            return response;
        }
        catch (IOException e) { throw Broken(e); }
        finally { _pending.TryRemove(id, out _); }
    }

    /// <summary>
    /// Completes when the guest reports the process's exit (status: code, or 128+signal), even if
    /// the report came first. One waiter per process: a second while the first still waits (an
    /// exec id reused before its process ended) is refused; once consumed, the id is free again.
    /// </summary>
    public Task<ProcessExited> WaitExitAsync(string containerId, string execId = "")
    {
        string key = $"{containerId}/{execId}";
        ExitSlot slot;
        lock (_exitsLock)
        {
            if (!_exits.TryGetValue(key, out slot!))
            {
                if (_broken is { } b) return Task.FromException<ProcessExited>(Broken(b));
                _exits[key] = slot = new ExitSlot();
            }
            if (slot.Claimed)
                throw new ClearOciException(ErrorCode.AlreadyExists, execId.Length == 0
                    ? $"the exit of container {containerId} is already awaited"
                    : $"exec id {execId} is in use in container {containerId}");
            slot.Claimed = true;
        }
        return ConsumeAsync(key, slot);
    }

    private async Task<ProcessExited> ConsumeAsync(string key, ExitSlot slot)
    {
        try { return await slot.Source.Task.ConfigureAwait(false); }
        finally
        {
            lock (_exitsLock)
                if (_exits.TryGetValue(key, out var current) && current == slot) _exits.Remove(key);
        }
    }

    private void ReportExit(ProcessExited e)
    {
        string key = $"{e.ContainerId}/{e.ExecId}";
        lock (_exitsLock)
        {
            // An id's next run starts only once its waiter is registered (WaitExitAsync before
            // ExecProcess), so an exit never lands on a slot still holding an unconsumed one.
            if (!_exits.TryGetValue(key, out var slot)) _exits[key] = slot = new ExitSlot();
            slot.Source.TrySetResult(e);
        }
    }

    /// <summary>Raised (on the control loop) when the guest reports an OOM kill in a container, before that process's exit.</summary>
    public event Action<OomKilled>? OomKilled;

    /// <summary>
    /// Raised (on the control loop: a listener must not block it) for each DNS query the guest
    /// relays; the listener answers with <see cref="AnswerDnsAsync"/>.
    /// </summary>
    public event Action<DnsQuery>? DnsQueried;

    public async Task AnswerDnsAsync(long query, ReadOnlyMemory<byte> answer)
    {
        try { await _control.SendAsync(new DnsAnswer { Query = query, Data = answer.ToArray() }).ConfigureAwait(false); }
        catch (IOException) { /* the guest went away: nobody waits for it */ }
    }

    /// <summary>Copies a guest stream into <paramref name="target"/>; the task ends at the stream's EOF.</summary>
    public Task AttachOutput(uint stream, Stream target)
    {
        var t = new OutputTarget(target);
        _outputs[stream] = t;
        return t.Done.Task;
    }

    public Task SendInputAsync(uint stream, ReadOnlyMemory<byte> data, CancellationToken ct = default) => _io.SendAsync(stream, data, ct);
    public Task SendInputEofAsync(uint stream, CancellationToken ct = default) => _io.SendEofAsync(stream, ct);

    public async Task ShutdownAsync()
    {
        try { await _control.SendAsync(new Shutdown { Id = Interlocked.Increment(ref _nextId) }).ConfigureAwait(false); }
        catch (IOException) { /* already gone */ }
    }

    private async Task ControlLoopAsync()
    {
        try
        {
            while (await _control.ReceiveAsync().ConfigureAwait(false) is { } m)
            {
                switch (m)
                {
                    case Hello h: _hello.TrySetResult(h); break;
                    case Response r when _pending.TryGetValue(r.Id, out var tcs): tcs.TrySetResult(r); break;
                    case ProcessExited e: ReportExit(e); break;
                    case OomKilled o: Raise(OomKilled, o); break;
                    case DnsQuery q: Raise(DnsQueried, q); break;
                }
            }
            Fail(new IOException("the guest closed the control channel"));
        }
        catch (Exception e) { Fail(e); }
    }

    private static void Raise<T>(Action<T>? listeners, T e)
    {
        try { listeners?.Invoke(e); }
        catch (Exception) { /* a listener's failure must not stop the control loop */ }
    }

    private async Task IoLoopAsync()
    {
        try
        {
            while (await _io.ReceiveAsync().ConfigureAwait(false) is { } frame)
            {
                if (!_outputs.TryGetValue(frame.Stream, out var target)) continue;
                if (frame.Eof) { _outputs.TryRemove(frame.Stream, out _); target.Complete(); }
                else await target.WriteAsync(frame.Data).ConfigureAwait(false);
            }
        }
        catch (Exception) { /* reported through the control channel */ }
        foreach (var t in _outputs.Values) t.Complete();
    }

    private void Fail(Exception e)
    {
        _broken = e;
        var error = Broken(e);
        _hello.TrySetException(error);
        foreach (var p in _pending.Values) p.TrySetException(error);
        lock (_exitsLock)
            foreach (var x in _exits.Values) x.Source.TrySetException(error);
    }

    private static ClearOciException Broken(Exception e) =>
        e as ClearOciException ?? new ClearOciException(ErrorCode.Agent, $"lost the connection to the guest agent: {e.Message}");

    public void Dispose()
    {
        _control.DisposeAsync().AsTask().Wait();
        _io.DisposeAsync().AsTask().Wait();
    }

    private sealed class ExitSlot
    {
        public TaskCompletionSource<ProcessExited> Source { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Claimed { get; set; }
    }

    private sealed class OutputTarget(Stream target)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task WriteAsync(ReadOnlyMemory<byte> data)
        {
            try
            {
                await target.WriteAsync(data).ConfigureAwait(false);
                await target.FlushAsync().ConfigureAwait(false);
            }
            catch (IOException) { /* the reader went away: drop, as a pipe would */ }
        }

        public void Complete() => Done.TrySetResult();
    }
}
