using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace ClearOci.LifecycleTests;

/// <summary>
/// The engine's side of runc's --console-socket: a listening unix socket that accepts one
/// connection and receives one message, the payload "/dev/ptmx" with the pty master attached
/// (SCM_RIGHTS). Received with the test's own recvmsg, not the runtime's code.
/// </summary>
public sealed class ConsoleSocket : IDisposable
{
    private readonly Socket _listener;

    public string Path { get; }

    public ConsoleSocket(string path)
    {
        Path = path;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(4);
    }

    /// <summary>Accepts one connection and receives the master: (payload, fd). Fails the test on timeout.</summary>
    public async Task<(string Payload, Terminal Master)> ReceiveAsync(TimeSpan deadline)
    {
        using var cts = new CancellationTokenSource(deadline);
        Socket peer;
        try { peer = await _listener.AcceptAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            Assert.Fail($"nothing connected to the console socket {Path} within {deadline.TotalSeconds:0} s");
            throw;
        }
        using (peer)
        {
            var (payload, fds) = await Task.Run(() => Receive((int)peer.Handle, deadline));
            Assert.That(fds, Has.Length.EqualTo(1), $"one fd attached to the console-socket message (payload \"{payload}\")");
            return (payload, new Terminal(fds[0]));
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVec { public void* Base; public nuint Len; }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MsgHdr
    {
        public void* Name; public uint NameLen; public IoVec* Iov; public nuint IovLen;
        public void* Control; public nuint ControlLen; public int Flags;
    }

    [DllImport("libc", SetLastError = true)] private static extern unsafe nint recvmsg(int fd, MsgHdr* msg, int flags);

    private const int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000, EINTR = 4, EAGAIN = 11;

    private static unsafe (string Payload, int[] Fds) Receive(int socket, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        byte* buffer = stackalloc byte[4096];
        const int controlLen = 16 + 4 * 8; // cmsghdr {u64 len, i32 level, i32 type} + up to 8 fds
        byte* control = stackalloc byte[controlLen];
        new Span<byte>(control, controlLen).Clear();
        var iov = new IoVec { Base = buffer, Len = 4096 };
        var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = controlLen };
        nint n;
        while ((n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR) continue;
            if (errno != EAGAIN) throw new InvalidOperationException($"recvmsg on the console socket failed: errno {errno}");
            if (clock.Elapsed > deadline) Assert.Fail("no message on the console socket connection");
            Terminal.WaitReadable(socket, 50);
        }
        var fds = new List<int>();
        if (msg.ControlLen >= 16 && *(int*)(control + 8) == SOL_SOCKET && *(int*)(control + 12) == SCM_RIGHTS)
        {
            int count = (int)((*(ulong*)control - 16) / 4);
            for (int i = 0; i < count; i++) fds.Add(*(int*)(control + 16 + 4 * i));
        }
        return (Encoding.UTF8.GetString(buffer, (int)n), fds.ToArray());
    }

    public void Dispose()
    {
        _listener.Dispose();
        try { File.Delete(Path); } catch (IOException) { }
    }
}

/// <summary>A pty master fd: window size, writes, and deadline-bounded reads (EIO once the other side is gone = end).</summary>
public sealed unsafe class Terminal : IDisposable
{
    private readonly StringBuilder _seen = new();
    private int _fd;

    public Terminal(int fd) => _fd = fd;

    /// <summary>All output read so far.</summary>
    public string Output => _seen.ToString();

    /// <summary>True once a read returned EIO or 0: nobody holds the slave any more.</summary>
    public bool Ended { get; private set; }

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize { public ushort Rows, Cols, X, Y; }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [DllImport("libc", SetLastError = true)] private static extern int ioctl(int fd, ulong request, void* arg);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, byte* buf, nuint count);
    [DllImport("libc", SetLastError = true)] private static extern nint write(int fd, byte* buf, nuint count);
    [DllImport("libc", SetLastError = true)] private static extern int poll(PollFd* fds, nuint n, int timeoutMs);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int fcntl(int fd, int cmd, int arg);

    private const ulong TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414;
    private const int EINTR = 4, EIO = 5, F_GETFD = 1, FD_CLOEXEC = 1;

    public bool IsCloseOnExec => (fcntl(_fd, F_GETFD, 0) & FD_CLOEXEC) != 0;

    /// <summary>Whether the fd is a terminal (TIOCGWINSZ works on it).</summary>
    public bool IsTerminal
    {
        get { WinSize w; return ioctl(_fd, TIOCGWINSZ, &w) == 0; }
    }

    public void SetSize(ushort rows, ushort cols)
    {
        var w = new WinSize { Rows = rows, Cols = cols };
        if (ioctl(_fd, TIOCSWINSZ, &w) != 0) throw new InvalidOperationException($"TIOCSWINSZ failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public void Write(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes)
        {
            int off = 0;
            while (off < bytes.Length)
            {
                nint n = write(_fd, p + off, (nuint)(bytes.Length - off));
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    throw new InvalidOperationException($"write to the pty master failed: errno {errno}");
                }
                off += (int)n;
            }
        }
    }

    internal static bool WaitReadable(int fd, int timeoutMs)
    {
        var p = new PollFd { Fd = fd, Events = 1 /* POLLIN */ };
        int r = poll(&p, 1, timeoutMs);
        return r > 0;
    }

    /// <summary>Reads what is there within <paramref name="within"/> (returns early after the first chunk).</summary>
    public void Pump(TimeSpan within)
    {
        if (Ended) return;
        var clock = Stopwatch.StartNew();
        byte* buf = stackalloc byte[4096];
        while (clock.Elapsed < within)
        {
            int left = Math.Max(1, (int)(within - clock.Elapsed).TotalMilliseconds);
            if (!WaitReadable(_fd, Math.Min(left, 100))) continue; // POLLHUP/POLLERR also count as readable
            nint n = read(_fd, buf, 4096);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                if (errno == EIO) { Ended = true; return; }
                throw new InvalidOperationException($"read from the pty master failed: errno {errno}");
            }
            if (n == 0) { Ended = true; return; }
            _seen.Append(Encoding.UTF8.GetString(buf, (int)n));
            return;
        }
    }

    /// <summary>Reads until the output (from <paramref name="from"/> on) satisfies <paramref name="done"/>; fails the test at the deadline.</summary>
    public string ReadUntil(Func<string, bool> done, TimeSpan deadline, string what, int from = 0)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string now = Output[Math.Min(from, _seen.Length)..];
            if (done(now)) return now;
            if (Ended) Assert.Fail($"{what}: the terminal ended first; output: \"{Printable(Output)}\"");
            if (clock.Elapsed > deadline) Assert.Fail($"{what}: not seen within {deadline.TotalSeconds:0} s; output: \"{Printable(Output)}\"");
            Pump(TimeSpan.FromMilliseconds(200));
        }
    }

    public string ReadUntil(string text, TimeSpan deadline, int from = 0) =>
        ReadUntil(s => s.Contains(text, StringComparison.Ordinal), deadline, $"\"{text}\" on the terminal", from);

    /// <summary>Reads until the other side is gone (EIO) or the deadline passes; true if it ended.</summary>
    public bool ReadToEnd(TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (!Ended && clock.Elapsed < deadline) Pump(TimeSpan.FromMilliseconds(200));
        return Ended;
    }

    public static string Printable(string s) => s.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\u001b", "\\e");

    public void Dispose()
    {
        if (_fd >= 0) close(_fd);
        _fd = -1;
    }
}
