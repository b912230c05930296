using ClearOci.Native;

namespace ClearOci.Shim;

/// <summary>A console socket (runc's --console-socket protocol): one connection that carries the pty master.</summary>
internal sealed class ConsoleReceiver : IDisposable
{
    private readonly System.Net.Sockets.Socket _listener;
    private readonly string _dir;

    private ConsoleReceiver(string dir, System.Net.Sockets.Socket listener)
    {
        _dir = dir;
        _listener = listener;
    }

    public string SocketPath => Path.Combine(_dir, "pty.sock");

    public static ConsoleReceiver Create()
    {
        string dir = Directory.CreateTempSubdirectory("clearoci-shim-pty-").FullName;
        var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(dir, "pty.sock")));
            listener.Listen(1);
            return new ConsoleReceiver(dir, listener);
        }
        catch
        {
            listener.Dispose();
            Directory.Delete(dir, true);
            throw;
        }
    }

    /// <summary>The master fd clearoci sent (it connected while `create`/`exec` ran).</summary>
    public int Receive(TimeSpan timeout)
    {
        if (!_listener.Poll(timeout, System.Net.Sockets.SelectMode.SelectRead))
            throw new RpcException(RpcCode.Internal, "clearoci did not send the terminal's master");
        using var client = _listener.Accept();
        client.Blocking = true;
        var (_, fds) = FdPassing.Receive((int)client.Handle, new byte[256]);
        if (fds.Length != 1)
        {
            foreach (var fd in fds) Libc.close(fd);
            throw new RpcException(RpcCode.Internal, $"the console socket carried {fds.Length} fds, not 1");
        }
        return fds[0];
    }

    public void Dispose()
    {
        _listener.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
