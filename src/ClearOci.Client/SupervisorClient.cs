using System.Net.Sockets;
using System.Text;
using ClearOci.Native;

namespace ClearOci.Client;

/// <summary>
/// The client side of a supervisor's socket: one connection per request, the request as one JSON
/// line (with fds for exec and add), replies as JSON lines. Every wait for a reply is bounded and
/// its error names the supervisor that did not answer; a failed reply is raised as the error the
/// supervisor had (same code, same message).
/// </summary>
public static class SupervisorClient
{
    /// <summary>How long a verb waits for its reply (a start or an exec under TCG takes about a second).</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>One request, one reply.</summary>
    public static SupervisorReply Call(string socketPath, SupervisorRequest request, TimeSpan? timeout = null)
    {
        using var socket = Connect(socketPath);
        Send(socket, request, []);
        using var reader = new StreamReader(new NetworkStream(socket, ownsSocket: false), Encoding.UTF8);
        return Read(reader, socketPath, timeout ?? ReplyTimeout);
    }

    /// <summary>
    /// exec (or a pod's add): hands the supervisor <paramref name="stdio"/> as the process's fds
    /// 0-2, waits (bounded by <paramref name="startTimeout"/>) until it started, calls
    /// <paramref name="onStarted"/>, then waits for its exit status as long as it runs.
    /// </summary>
    public static int RunProcess(string socketPath, SupervisorRequest request, int[] stdio, Action onStarted, TimeSpan startTimeout)
    {
        using var socket = Connect(socketPath);
        Send(socket, request, stdio);
        using var reader = new StreamReader(new NetworkStream(socket, ownsSocket: false), Encoding.UTF8);
        Read(reader, socketPath, startTimeout);
        onStarted();
        return Read(reader, socketPath, Timeout.InfiniteTimeSpan).ExitStatus
            ?? throw new ClearOciException(ErrorCode.Internal, $"the supervisor at {socketPath} ended the process without a status");
    }

    /// <summary>
    /// events: returns once subscribed; the returned task then delivers each event's type to
    /// <paramref name="onEvent"/> and ends when the container has stopped (or <paramref name="ct"/>).
    /// </summary>
    public static Task SubscribeEvents(string socketPath, Action<string> onEvent, CancellationToken ct)
    {
        var socket = Connect(socketPath);
        StreamReader reader;
        try
        {
            Send(socket, new EventsRequest(), []);
            reader = new StreamReader(new NetworkStream(socket, ownsSocket: true), Encoding.UTF8);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        try { Read(reader, socketPath, ReplyTimeout); }
        catch
        {
            reader.Dispose();
            throw;
        }
        return Task.Run(async () =>
        {
            using var _ = reader;
            try
            {
                while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
                    if (SupervisorWire.ReadReply(line, socketPath).Event is { } type) onEvent(type);
            }
            catch (OperationCanceledException) { }
            catch (IOException) { /* the supervisor is gone: the container has stopped */ }
        }, CancellationToken.None);
    }

    private static Socket Connect(string socketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            UnixSocketPath.Use(socketPath, path => { socket.Connect(new UnixDomainSocketEndPoint(path)); return 0; });
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ClearOciException(ErrorCode.System, $"cannot reach the container's supervisor ({socketPath}): {e.Message}");
        }
    }

    private static void Send(Socket socket, SupervisorRequest request, int[] fds)
    {
        FdPassing.Send((int)socket.Handle, SupervisorWire.Line(request), fds);
    }

    private static SupervisorReply Read(StreamReader reader, string socketPath, TimeSpan timeout)
    {
        using var cts = timeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(timeout);
        string? line;
        try { line = reader.ReadLineAsync(cts.Token).AsTask().GetAwaiter().GetResult(); }
        catch (OperationCanceledException)
        {
            throw new ClearOciException(ErrorCode.Timeout, $"the container's supervisor ({socketPath}) did not answer within {timeout.TotalSeconds:0} s");
        }
        catch (IOException e) { throw new ClearOciException(ErrorCode.System, $"the container's supervisor ({socketPath}) went away: {e.Message}"); }
        return SupervisorWire.ReadReply(line ?? throw new ClearOciException(ErrorCode.System, $"the container's supervisor ({socketPath}) closed the connection"), socketPath);
    }
}
