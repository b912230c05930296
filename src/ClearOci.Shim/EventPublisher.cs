using System.Threading.Channels;

namespace ClearOci.Shim;

/// <summary>
/// Publishes task events to containerd in order from one queue: ttrpc Forward on
/// $TTRPC_ADDRESS (what the 1.6 runc shim does), else `containerd publish` with the Any on
/// stdin. A failed send is retried in place (1 s, 2 s, ...), so a later event never overtakes it.
/// </summary>
public sealed class EventPublisher
{
    public const string EventsService = "containerd.services.events.ttrpc.v1.Events";
    public const string NamespaceKey = "containerd-namespace-ttrpc";
    private const int Attempts = 5;

    private readonly Channel<(TaskEvent Event, DateTimeOffset Time)> _queue = Channel.CreateUnbounded<(TaskEvent, DateTimeOffset)>(new() { SingleReader = true });
    private readonly string _namespace;
    private readonly string? _ttrpcAddress;
    private readonly Func<TaskEvent, Task<bool>>? _publishBinary;
    private readonly Action<string> _log;
    private readonly Task _sender;
    private TtrpcClient? _client;
    private int _pending;

    public EventPublisher(string ns, string? ttrpcAddress, Func<TaskEvent, Task<bool>>? publishBinary, Action<string> log)
    {
        _namespace = ns;
        _ttrpcAddress = string.IsNullOrEmpty(ttrpcAddress) ? null : ttrpcAddress;
        _publishBinary = publishBinary;
        _log = log;
        _sender = Task.Run(SendLoopAsync);
    }

    public void Publish(TaskEvent e)
    {
        Interlocked.Increment(ref _pending);
        _queue.Writer.TryWrite((e, DateTimeOffset.UtcNow));
    }

    /// <summary>Waits (bounded) until every queued event has been sent or given up.</summary>
    public async Task FlushAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _pending) > 0 && DateTime.UtcNow < until)
            await Task.Delay(10).ConfigureAwait(false);
    }

    private async Task SendLoopAsync()
    {
        await foreach (var (e, time) in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            for (int attempt = 1; attempt <= Attempts; attempt++)
            {
                if (await TrySendAsync(e, time).ConfigureAwait(false)) break;
                if (attempt == Attempts) { _log($"event {e.Topic} dropped after {Attempts} attempts"); break; }
                await Task.Delay(TimeSpan.FromSeconds(attempt)).ConfigureAwait(false);
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    private async Task<bool> TrySendAsync(TaskEvent e, DateTimeOffset time)
    {
        if (_ttrpcAddress is null) return _publishBinary != null && await _publishBinary(e).ConfigureAwait(false);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            _client ??= await TtrpcClient.ConnectAsync(_ttrpcAddress, cts.Token).ConfigureAwait(false);
            await _client.CallAsync(new TtrpcRequest(EventsService, "Forward", e.ForwardRequest(_namespace, time), 5_000_000_000,
                [new(NamespaceKey, _namespace)]), cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            _log($"publish {e.Topic}: {ex.Message}");
            if (_client != null) await _client.DisposeAsync().ConfigureAwait(false);
            _client = null; // reconnect: containerd may have restarted
            return false;
        }
    }
}
