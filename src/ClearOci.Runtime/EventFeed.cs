using ClearOci.Client;
using System.Threading.Channels;

namespace ClearOci.Runtime;

/// <summary>
/// The supervisor's side of `events`: container events (today "oom") fanned out to every
/// subscriber's connection as they happen. Each subscriber gets an empty reply line once it is
/// subscribed, then one line per event; the connection closes when the container has stopped,
/// after every event published before that was written.
/// </summary>
internal sealed class EventFeed
{
    private readonly Lock _lock = new();
    private readonly List<Channel<string>> _subscribers = [];
    private readonly List<Task> _serving = [];
    private bool _completed;

    public void Publish(string type)
    {
        lock (_lock)
            foreach (var s in _subscribers) s.Writer.TryWrite(type);
    }

    /// <summary>The container stopped: each subscriber's stream ends after its queued events.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            foreach (var s in _subscribers) s.Writer.TryComplete();
        }
    }

    /// <summary>Waits (bounded) until every subscriber got its last events.</summary>
    public Task DrainAsync(TimeSpan timeout)
    {
        Task[] serving;
        lock (_lock) serving = [.. _serving];
        return Task.WhenAny(Task.WhenAll(serving), Task.Delay(timeout));
    }

    public Task ServeAsync(Stream stream)
    {
        var channel = Channel.CreateUnbounded<string>();
        Task task;
        lock (_lock)
        {
            if (_completed) channel.Writer.TryComplete();
            else _subscribers.Add(channel);
            task = Task.Run(() => WriteAsync(stream, channel.Reader));
            _serving.Add(task);
        }
        return task;
    }

    private async Task WriteAsync(Stream stream, ChannelReader<string> events)
    {
        try
        {
            await WriteLineAsync(stream, SupervisorReply.Ok).ConfigureAwait(false);
            await foreach (var type in events.ReadAllAsync().ConfigureAwait(false))
                await WriteLineAsync(stream, new SupervisorReply { Event = type }).ConfigureAwait(false);
        }
        catch (IOException) { /* the subscriber went away */ }
        finally
        {
            lock (_lock) _subscribers.RemoveAll(s => s.Reader == events);
        }
    }

    private static Task WriteLineAsync(Stream stream, SupervisorReply reply) => stream.WriteAsync(SupervisorWire.Line(reply)).AsTask();
}
