using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>Sends and receives file descriptors over a unix socket (SCM_RIGHTS) with a payload.</summary>
public static unsafe partial class FdPassing
{
    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec { public void* Base; public nuint Len; }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name; public uint NameLen; public IoVec* Iov; public nuint IovLen;
        public void* Control; public nuint ControlLen; public int Flags;
    }

    [LibraryImport("libc", SetLastError = true)] private static partial nint sendmsg(int fd, MsgHdr* msg, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial nint recvmsg(int fd, MsgHdr* msg, int flags);

    private const int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000, MaxFds = 16;

    /// <summary>One sendmsg: <paramref name="payload"/> (non-empty) with <paramref name="fds"/> attached.</summary>
    public static void Send(int socket, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds)
    {
        if (payload.IsEmpty || fds.Length > MaxFds) throw new ArgumentException("payload must be non-empty and fds at most 16");
        int controlLen = Align(16 + 4 * fds.Length); // cmsghdr (len u64, level i32, type i32) + fds
        byte* control = stackalloc byte[controlLen];
        new Span<byte>(control, controlLen).Clear();
        *(ulong*)control = (ulong)(16 + 4 * fds.Length);
        *(int*)(control + 8) = SOL_SOCKET;
        *(int*)(control + 12) = SCM_RIGHTS;
        for (int i = 0; i < fds.Length; i++) *(int*)(control + 16 + 4 * i) = fds[i];
        fixed (byte* p = payload)
        {
            var iov = new IoVec { Base = p, Len = (nuint)payload.Length };
            var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = fds.Length > 0 ? control : null, ControlLen = fds.Length > 0 ? (nuint)controlLen : 0 };
            while (sendmsg(socket, &msg, 0x4000 /* MSG_NOSIGNAL */) < 0)
                if (Libc.Errno != Libc.EINTR) throw Libc.Error("sendmsg");
        }
    }

    /// <summary>One recvmsg into <paramref name="buffer"/>; returns the byte count and the fds received (close-on-exec).</summary>
    public static (int Length, int[] Fds) Receive(int socket, Span<byte> buffer)
    {
        int controlLen = Align(16 + 4 * MaxFds);
        byte* control = stackalloc byte[controlLen];
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { Base = p, Len = (nuint)buffer.Length };
            var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)controlLen };
            nint n;
            while ((n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0)
            {
                if (Libc.Errno == Libc.EAGAIN) { WaitReadable(socket); continue; }
                if (Libc.Errno != Libc.EINTR) throw Libc.Error("recvmsg");
            }
            var fds = new List<int>();
            if (msg.ControlLen >= 16 && *(int*)(control + 8) == SOL_SOCKET && *(int*)(control + 12) == SCM_RIGHTS)
            {
                int count = (int)((*(ulong*)control - 16) / 4);
                for (int i = 0; i < count; i++) fds.Add(*(int*)(control + 16 + 4 * i));
            }
            return ((int)n, fds.ToArray());
        }
    }

    private static int Align(int n) => (n + 7) & ~7;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint n, int timeoutMs);

    /// <summary>For sockets that .NET made non-blocking.</summary>
    private static void WaitReadable(int fd)
    {
        var p = new PollFd { Fd = fd, Events = 1 };
        poll(&p, 1, -1);
    }
}
