using System.Runtime.InteropServices;
using System.Text;
using ClearOci.Native;

namespace ClearOci.Shim;

/// <summary>
/// A listening unix socket made with libc, not System.Net.Sockets: a .NET Socket that bound a
/// path unlinks it when disposed, and `start` must leave the socket to the daemon it spawns.
/// </summary>
internal static unsafe partial class ListenSocket
{
    [LibraryImport("libc", SetLastError = true)] private static partial int socket(int domain, int type, int protocol);
    [LibraryImport("libc", SetLastError = true)] private static partial int bind(int fd, byte* addr, int len);
    [LibraryImport("libc", SetLastError = true)] private static partial int listen(int fd, int backlog);

    /// <summary>Binds and listens on <paramref name="path"/>; returns the fd (close-on-exec).</summary>
    public static int Bind(string path, int backlog)
    {
        byte[] name = Encoding.UTF8.GetBytes(path);
        if (name.Length > UnixSocketPath.MaxBytes - 1) throw new ArgumentException($"socket path too long: {path}");
        int fd = Libc.Check(socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket");
        byte* addr = stackalloc byte[110];
        new Span<byte>(addr, 110).Clear();
        *(ushort*)addr = Libc.AF_UNIX;
        name.CopyTo(new Span<byte>(addr + 2, name.Length));
        if (bind(fd, addr, 2 + name.Length + 1) < 0 || listen(fd, backlog) < 0)
        {
            var e = Libc.Error($"listen on {path}");
            Libc.close(fd);
            throw e;
        }
        return fd;
    }
}
