using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>AF_VSOCK stream sockets (host: listen and accept; guest: connect to the host).</summary>
public static unsafe partial class Vsock
{
    public const int AF_VSOCK = 40;
    public const uint CidAny = 0xFFFFFFFF, CidHost = 2, PortAny = 0xFFFFFFFF;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrVm
    {
        public ushort Family;
        public ushort Reserved;
        public uint Port;
        public uint Cid;
        public uint Zero;
    }

    [LibraryImport("libc", SetLastError = true)] private static partial int socket(int domain, int type, int protocol);
    [LibraryImport("libc", SetLastError = true)] private static partial int bind(int fd, SockaddrVm* addr, int len);
    [LibraryImport("libc", SetLastError = true)] private static partial int listen(int fd, int backlog);
    [LibraryImport("libc", SetLastError = true)] private static partial int accept4(int fd, SockaddrVm* addr, int* len, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int connect(int fd, SockaddrVm* addr, int len);
    [LibraryImport("libc", SetLastError = true)] private static partial int getsockname(int fd, SockaddrVm* addr, int* len);
    [LibraryImport("libc", SetLastError = true)] private static partial int poll(PollFd* fds, nuint n, int timeoutMs);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    /// <summary>A listening socket on any CID and a port the kernel picks; returns (fd, port).</summary>
    public static (int Fd, uint Port) Listen()
    {
        int fd = Libc.Check(socket(AF_VSOCK, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket(AF_VSOCK)");
        var addr = new SockaddrVm { Family = AF_VSOCK, Cid = CidAny, Port = PortAny };
        if (bind(fd, &addr, sizeof(SockaddrVm)) < 0 || listen(fd, 4) < 0)
        {
            var e = Libc.Error("vsock bind/listen");
            Libc.close(fd);
            throw e;
        }
        int len = sizeof(SockaddrVm);
        Libc.Check(getsockname(fd, &addr, &len), "getsockname(vsock)");
        return (fd, addr.Port);
    }

    /// <summary>Accepts one connection from <paramref name="cid"/> (others are refused), polling so it can be cancelled.</summary>
    public static int Accept(int listenFd, uint cid, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var p = new PollFd { Fd = listenFd, Events = 1 /* POLLIN */ };
            if (poll(&p, 1, 100) <= 0) continue;
            var addr = default(SockaddrVm);
            int len = sizeof(SockaddrVm);
            int fd = accept4(listenFd, &addr, &len, Libc.SOCK_CLOEXEC);
            if (fd < 0) { if (Libc.Errno is Libc.EINTR or Libc.EAGAIN) continue; throw Libc.Error("accept(vsock)"); }
            if (addr.Cid == cid) return fd;
            Libc.close(fd); // another VM knocking on this VM's port
        }
    }

    public static int Connect(uint cid, uint port)
    {
        int fd = Libc.Check(socket(AF_VSOCK, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket(AF_VSOCK)");
        var addr = new SockaddrVm { Family = AF_VSOCK, Cid = cid, Port = port };
        if (connect(fd, &addr, sizeof(SockaddrVm)) < 0)
        {
            var e = Libc.Error($"connect vsock {cid}:{port}");
            Libc.close(fd);
            throw e;
        }
        return fd;
    }

    private const ulong VHOST_VSOCK_SET_GUEST_CID = 0x4008AF60;

    /// <summary>
    /// Opens /dev/vhost-vsock and claims a free guest CID on it (the fd goes to QEMU as vhostfd),
    /// so two VMs can never race for one CID.
    /// </summary>
    public static (int VhostFd, uint Cid) ClaimGuestCid()
    {
        int fd = Libc.Check(Libc.open("/dev/vhost-vsock", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/vhost-vsock");
        for (int attempt = 0; attempt < 64; attempt++)
        {
            ulong cid = 3 + (ulong)Random.Shared.NextInt64(0xFFFF_0000);
            if (Libc.ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &cid) == 0) return (fd, (uint)cid);
            if (Libc.Errno != 98 /* EADDRINUSE */) break;
        }
        var e = Libc.Error("claim a vsock guest CID");
        Libc.close(fd);
        throw e;
    }
}
