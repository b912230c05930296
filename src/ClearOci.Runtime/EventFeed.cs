using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using ClearOci.Spec;

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
            await WriteLineAsync(stream, new SupervisorResponse()).ConfigureAwait(false);
            await foreach (var type in events.ReadAllAsync().ConfigureAwait(false))
                await WriteLineAsync(stream, new SupervisorResponse { Event = type }).ConfigureAwait(false);
        }
        catch (IOException) { /* the subscriber went away */ }
        finally
        {
            lock (_lock) _subscribers.RemoveAll(s => s.Reader == events);
        }
    }

    private static Task WriteLineAsync(Stream stream, SupervisorResponse response) =>
        stream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(response, RuntimeJsonContext.Default.SupervisorResponse).Append((byte)'\n').ToArray()).AsTask();
}

/// <summary>The `events` client: subscribes to a supervisor's event feed.</summary>
public static class SupervisorEvents
{
    /// <summary>
    /// Returns once subscribed; the returned task then delivers each event's type to
    /// <paramref name="onEvent"/> and ends when the container has stopped (or <paramref name="ct"/>).
    /// </summary>
    public static async Task<Task> SubscribeAsync(string socketPath, Action<string> onEvent, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            try { ClearOci.Native.UnixSocketPath.Use(socketPath, path => { socket.Connect(new UnixDomainSocketEndPoint(path)); return 0; }); }
            catch (SocketException e) { throw new ClearOciException(ErrorCode.System, $"cannot reach the container's supervisor ({socketPath}): {e.Message}"); }
            byte[] line = JsonSerializer.SerializeToUtf8Bytes(new SupervisorRequest { Op = "events" }, RuntimeJsonContext.Default.SupervisorRequest);
            ClearOci.Native.FdPassing.Send((int)socket.Handle, line.Append((byte)'\n').ToArray(), []);
            var reader = new StreamReader(new NetworkStream(socket, ownsSocket: true), Encoding.UTF8);
            SupervisorClient.Check(await reader.ReadLineAsync(ct).ConfigureAwait(false));
            return ReadAsync(reader, onEvent, ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task ReadAsync(StreamReader reader, Action<string> onEvent, CancellationToken ct)
    {
        using var _ = reader;
        try
        {
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
                if (SupervisorClient.Check(line).Event is { } type) onEvent(type);
        }
        catch (OperationCanceledException) { }
        catch (IOException) { /* the supervisor is gone: the container has stopped */ }
    }
}
