using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>Pseudo-terminals: a pair, raw mode, window size, controlling terminal.</summary>
public static unsafe partial class Pty
{
    [StructLayout(LayoutKind.Sequential)]
    public struct WinSize { public ushort Rows, Cols, XPixel, YPixel; }

    [LibraryImport("libc", SetLastError = true)] private static partial int openpty(int* master, int* slave, byte* name, void* termios, void* winsize);
    [LibraryImport("libc", SetLastError = true)] private static partial int tcgetattr(int fd, byte* termios);
    [LibraryImport("libc", SetLastError = true)] private static partial int tcsetattr(int fd, int action, byte* termios);
    [LibraryImport("libc")] private static partial void cfmakeraw(byte* termios);
    [LibraryImport("libc", SetLastError = true)] private static partial int setsid();

    private const ulong TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, TIOCSCTTY = 0x540E;

    /// <summary>A new pty pair, both ends close-on-exec.</summary>
    public static (int Master, int Slave) Open(ushort rows = 0, ushort cols = 0)
    {
        int master, slave;
        var size = new WinSize { Rows = rows, Cols = cols };
        Libc.Check(openpty(&master, &slave, null, null, rows == 0 ? null : &size), "openpty");
        Libc.SetCloexec(master, true);
        Libc.SetCloexec(slave, true);
        return (master, slave);
    }

    private const ulong TIOCGPTN = 0x80045430, TIOCSPTLCK = 0x40045431;

    /// <summary>A pty pair from the devpts instance behind <paramref name="ptmx"/> (both ends close-on-exec).</summary>
    public static (int Master, int Slave) OpenIn(string ptmx)
    {
        int master = Libc.open(ptmx, Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0);
        if (master < 0) throw Libc.Error($"open {ptmx} (does the container mount devpts?)");
        int unlock = 0, n = 0;
        Libc.Check(Libc.ioctl(master, TIOCSPTLCK, &unlock), "unlockpt");
        Libc.Check(Libc.ioctl(master, TIOCGPTN, &n), "ptsname");
        string dir = Path.GetDirectoryName(ptmx) ?? "/dev";
        // /dev/ptmx is usually a link to pts/ptmx; the slave lives in that devpts.
        string pts = File.ResolveLinkTarget(ptmx, true) is { } target ? Path.GetDirectoryName(target.FullName)! : Path.Combine(dir, "pts");
        int slave = Libc.open(Path.Combine(pts, n.ToString()), Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0);
        if (slave < 0) { var e = Libc.Error($"open {pts}/{n}"); Libc.close(master); throw e; }
        return (master, slave);
    }

    /// <summary>No echo, no line editing, no signal keys: for a pty that only relays bytes.</summary>
    public static void MakeRaw(int fd)
    {
        byte* t = stackalloc byte[256];
        Libc.Check(tcgetattr(fd, t), "tcgetattr");
        cfmakeraw(t);
        Libc.Check(tcsetattr(fd, 0, t), "tcsetattr");
    }

    public static WinSize GetSize(int fd)
    {
        WinSize w;
        return Libc.ioctl(fd, TIOCGWINSZ, &w) < 0 ? default : w;
    }

    public static void SetSize(int fd, ushort rows, ushort cols)
    {
        var w = new WinSize { Rows = rows, Cols = cols };
        Libc.Check(Libc.ioctl(fd, TIOCSWINSZ, &w), "TIOCSWINSZ");
    }

    /// <summary>In the child: a new session whose controlling terminal is fd 0.</summary>
    public static void BecomeControllingTerminal()
    {
        setsid();
        Libc.Check(Libc.ioctl(0, TIOCSCTTY, null), "TIOCSCTTY");
    }

    /// <summary>runc's --console-socket: connect, send the master with the name "/dev/ptmx".</summary>
    public static void SendToConsoleSocket(string socketPath, int master)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try { UnixSocketPath.Use(socketPath, p => { socket.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(p)); return 0; }); }
        catch (System.Net.Sockets.SocketException e) { throw new ClearOciException(ErrorCode.System, $"connect to console socket {socketPath}: {e.Message}"); }
        FdPassing.Send((int)socket.Handle, "/dev/ptmx"u8, [master]);
    }
}
