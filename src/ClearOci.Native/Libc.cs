using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>Source-generated libc imports shared by the host and the guest (AOT-safe).</summary>
public static unsafe partial class Libc
{
    private const string Lib = "libc";

    public const int EINTR = 4, EAGAIN = 11, ENOENT = 2, ESRCH = 3, ECHILD = 10, EEXIST = 17, EINVAL = 22, EBUSY = 16, EPERM = 1;
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, O_DIRECTORY = 0x10000;
    public const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1, F_GETFL = 3, F_SETFL = 4;

    [LibraryImport(Lib, SetLastError = true)] public static partial int getpid();
    [LibraryImport(Lib, SetLastError = true)] public static partial int getppid();
    [LibraryImport(Lib, SetLastError = true)] public static partial int kill(int pid, int sig);
    [LibraryImport(Lib, SetLastError = true)] public static partial int waitpid(int pid, out int status, int options);
    [LibraryImport(Lib, SetLastError = true)] public static partial int setsid();
    [LibraryImport(Lib, SetLastError = true)] public static partial int close(int fd);
    [LibraryImport(Lib, SetLastError = true)] public static partial int dup(int fd);
    [LibraryImport(Lib, SetLastError = true)] public static partial int dup3(int oldfd, int newfd, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fcntl(int fd, int cmd, int arg);
    [LibraryImport(Lib, SetLastError = true)] public static partial int pipe2(int* fds, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int socketpair(int domain, int type, int protocol, int* fds);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint read(int fd, byte* buf, nint count);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint write(int fd, byte* buf, nint count);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int open(string path, int flags, int mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int ioctl(int fd, ulong request, void* arg);
    [LibraryImport(Lib, SetLastError = true)] public static partial int clock_gettime(int clock, Timespec* ts);
    [LibraryImport(Lib, SetLastError = true)] public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
    [LibraryImport(Lib, SetLastError = true)] public static partial int umask(int mask);

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec { public long Sec; public long Nsec; }

    public const int CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7;

    /// <summary>Nanoseconds of CLOCK_BOOTTIME: in the guest, time since the kernel started.</summary>
    public static long BootTimeNs()
    {
        Timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return ts.Sec * 1_000_000_000 + ts.Nsec;
    }

    /// <summary>The last errno of a call made through these imports.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();

    public static string StrError(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>Builds the one error type from errno: "what: No such file or directory".</summary>
    public static ClearOciException Error(string what, int errno = -1)
    {
        if (errno < 0) errno = Errno;
        return new ClearOciException(ErrorCode.System, $"{what}: {StrError(errno)}", errno);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport(Lib, SetLastError = true)] private static partial int poll(PollFd* fds, nuint n, int timeoutMs);

    /// <summary>True when a read on <paramref name="fd"/> would not block (data, EOF or an error).</summary>
    public static bool WaitReadable(int fd, int timeoutMs)
    {
        var p = new PollFd { Fd = fd, Events = 1 /* POLLIN */ };
        return poll(&p, 1, timeoutMs) > 0;
    }

    public static int Check(int rc, string what) => rc < 0 ? throw Error(what) : rc;

    /// <summary>Creates a pipe; both ends close-on-exec.</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Check(pipe2(fds, O_CLOEXEC), "pipe2");
        return (fds[0], fds[1]);
    }

    public const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;

    /// <summary>A connected pair of unix stream sockets, both close-on-exec.</summary>
    public static (int A, int B) SocketPair()
    {
        int* fds = stackalloc int[2];
        Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
        return (fds[0], fds[1]);
    }

    public static void SetCloexec(int fd, bool on)
    {
        int flags = Check(fcntl(fd, F_GETFD, 0), "fcntl(F_GETFD)");
        flags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        Check(fcntl(fd, F_SETFD, flags), "fcntl(F_SETFD)");
    }

    public static void WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int off = 0;
            while (off < data.Length)
            {
                nint n = write(fd, p + off, data.Length - off);
                if (n < 0)
                {
                    if (Errno == EINTR) continue;
                    throw Error("write");
                }
                off += (int)n;
            }
        }
    }

    public static int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = read(fd, p, buffer.Length);
                if (n >= 0) return (int)n;
                if (Errno != EINTR) throw Error("read");
            }
        }
    }

    /// <summary>Reads until EOF (for small control pipes).</summary>
    public static byte[] ReadToEnd(int fd)
    {
        var ms = new MemoryStream();
        Span<byte> buf = stackalloc byte[4096];
        int n;
        while ((n = Read(fd, buf)) > 0) ms.Write(buf[..n]);
        return ms.ToArray();
    }
}
