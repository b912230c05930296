using System.Net.Sockets;
using ClearOci.Client;
using ClearOci.Native;

namespace ClearOci.Runtime;

/// <summary>
/// The server side of a container's socket: accepts connections, reads each request (a JSON line
/// and the fds it carries), refuses what it cannot read or another protocol version, and hands
/// the rest to one handler. A handler's failure becomes the error reply (<see cref="WireError"/>).
/// </summary>
internal sealed class SupervisorSocket : IDisposable
{
    /// <summary>Handles one request; it owns the fds (closes them or hands them on).</summary>
    public delegate Task Handler(SupervisorRequest request, int[] fds, Stream reply);

    private const int MaxRequest = 1 << 20;
    private readonly Socket _listener;

    private SupervisorSocket(Socket listener) => _listener = listener;

    /// <summary>Binds and listens on <paramref name="path"/> (which must not exist).</summary>
    public static SupervisorSocket Listen(string path)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            UnixSocketPath.Use(path, p => { listener.Bind(new UnixDomainSocketEndPoint(p)); return 0; });
            listener.Listen(16);
            return new SupervisorSocket(listener);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new ClearOciException(ErrorCode.System, $"listen on {path}: {e.Message}");
        }
    }

    /// <summary>Serves until <paramref name="ct"/> or disposal; each connection on its own task.</summary>
    public async Task ServeAsync(Handler handler, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; } // one failed accept (EMFILE, an aborted peer) is no reason to stop serving
            _ = Task.Run(() => HandleAsync(client, handler));
        }
    }

    private static async Task HandleAsync(Socket client, Handler handler)
    {
        using var _ = client;
        await using var stream = new NetworkStream(client, ownsSocket: false);
        int[] fds = [];
        try
        {
            byte[] buffer = new byte[MaxRequest];
            var (length, received) = await Task.Run(() => FdPassing.Receive((int)client.Handle, buffer)).ConfigureAwait(false);
            fds = received;
            var request = SupervisorWire.ReadRequest(buffer.AsSpan(0, length));
            (var taken, fds) = (fds, []);
            await handler(request, taken, stream).ConfigureAwait(false);
        }
        catch (Exception e) { await ReplyAsync(stream, SupervisorReply.Failed(e)).ConfigureAwait(false); }
        finally { foreach (var fd in fds) Libc.close(fd); }
    }

    public static async Task ReplyAsync(Stream stream, SupervisorReply reply)
    {
        try { await stream.WriteAsync(SupervisorWire.Line(reply)).ConfigureAwait(false); } catch (IOException) { }
    }

    public void Dispose() => _listener.Dispose();
}
