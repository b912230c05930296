using ClearOci.Native;

namespace ClearOci.Runtime;

/// <summary>
/// The host side of a container's terminal: a pty whose master goes to the engine through
/// --console-socket (as runc does) and whose slave, in raw mode, is relayed to the guest's pty,
/// where the line discipline lives. Window size changes on the master are seen on the slave and
/// forwarded to the guest.
/// </summary>
public sealed class HostTerminal : IDisposable
{
    private readonly int _slave;
    private readonly CancellationTokenSource _stop = new();

    private HostTerminal(int slave)
    {
        _slave = slave;
        Input = new RawFdStream(Libc.Check(Libc.fcntl(slave, 1030, 3), "dup"), canRead: true, canWrite: false);
        Output = new RawFdStream(Libc.Check(Libc.fcntl(slave, 1030, 3), "dup"), canRead: false, canWrite: true);
    }

    public Stream Input { get; }
    public Stream Output { get; }

    public static HostTerminal Open(string consoleSocket, ushort rows, ushort cols)
    {
        var (master, slave) = Pty.Open(rows, cols);
        try
        {
            Pty.MakeRaw(slave);
            Pty.SendToConsoleSocket(consoleSocket, master);
        }
        catch
        {
            Libc.close(slave);
            throw;
        }
        finally { Libc.close(master); } // the engine holds it now
        return new HostTerminal(slave);
    }

    /// <summary>Polls the size (the slave gets no SIGWINCH: it is nobody's controlling terminal) and reports changes.</summary>
    public void FollowSize(AgentClientResize resize)
    {
        _ = Task.Run(async () =>
        {
            var last = default(Pty.WinSize); // the engine may have sized the master already: send that too
            while (!_stop.IsCancellationRequested)
            {
                try { await Task.Delay(200, _stop.Token).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                var now = Pty.GetSize(_slave);
                if (now.Rows == last.Rows && now.Cols == last.Cols || now.Rows == 0) continue;
                try
                {
                    await resize(now.Rows, now.Cols).ConfigureAwait(false);
                    last = now;
                }
                catch (Exception) { /* not created in the guest yet, or gone: try again on the next tick */ }
            }
        });
    }

    public void Dispose()
    {
        _stop.Cancel();
        Input.Dispose();
        Output.Dispose();
        Libc.close(_slave);
    }
}

public delegate Task AgentClientResize(ushort rows, ushort cols);
