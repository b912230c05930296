using System.Text;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>The stage's console messages: /dev/kmsg, opened before the pivot (the container's /dev has none).</summary>
internal static class StageLog
{
    private static int _fd = -1;

    /// <summary>Opens the log at a high fd, out of the way of the preserved fds moved in later.</summary>
    public static void Open()
    {
        int fd = Libc.open("/dev/kmsg", Libc.O_WRONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) return;
        _fd = Libc.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 300);
        Libc.close(fd);
    }

    public static void Write(string message)
    {
        if (_fd < 0) return;
        try { Libc.WriteAll(_fd, Encoding.UTF8.GetBytes($"<4>clearoci-agent init: {message}\n")); }
        catch (ClearOciException) { /* a full or closed log must not stop the container */ }
    }
}
