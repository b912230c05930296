using ClearOci.Native;

namespace ClearOci.Client;

/// <summary>An exclusive flock held until disposed.</summary>
public sealed partial class FileLock : IDisposable
{
    private readonly int _fd;

    private FileLock(int fd) => _fd = fd;

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);

    public static FileLock Acquire(string path)
    {
        int fd = Libc.Check(Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180), $"open {path}");
        while (flock(fd, 2 /* LOCK_EX */) < 0)
        {
            if (Libc.Errno == Libc.EINTR) continue;
            var e = Libc.Error($"flock {path}");
            Libc.close(fd);
            throw e;
        }
        return new FileLock(fd);
    }

    public void Dispose() => Libc.close(_fd);
}
