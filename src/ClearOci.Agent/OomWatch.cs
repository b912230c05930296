using ClearOci.Native;

namespace ClearOci.Agent;

/// <summary>
/// Reports each OOM kill in a container's cgroup once: the kernel bumps the oom_kill counter of
/// memory.events and notifies inotify watchers of the file. A thread blocks on the inotify fd;
/// <see cref="Check"/> also reads the counter when a process exits, so a kill that ended the
/// process is reported before its exit, whichever comes first.
/// </summary>
internal sealed class OomWatch : IDisposable
{
    private readonly string _events;
    private readonly Action _report;
    private readonly Lock _lock = new();
    private readonly int _fd = -1, _wd = -1;
    private long _seen;
    private bool _closed;

    public OomWatch(string cgroupPath, Action report)
    {
        _events = Path.Combine(cgroupPath, "memory.events");
        _report = report;
        _seen = GuestCgroup.OomKills(_events);
        _fd = Libc.inotify_init1(Libc.O_CLOEXEC);
        if (_fd < 0) { GuestBoot.Log($"inotify_init1: {Libc.StrError(Libc.Errno)}; OOM kills are seen only at exits"); return; }
        _wd = Libc.inotify_add_watch(_fd, _events, Libc.IN_MODIFY);
        if (_wd < 0)
        {
            GuestBoot.Log($"inotify on {_events}: {Libc.StrError(Libc.Errno)}; OOM kills are seen only at exits");
            Libc.close(_fd);
            _fd = -1;
            return;
        }
        new Thread(Loop) { IsBackground = true, Name = "oom-watch" }.Start();
    }

    /// <summary>
    /// Reports every kill counted since the last look. Reports are sent under the lock, so a
    /// caller that returns from here knows every kill counted so far has been reported.
    /// </summary>
    public void Check()
    {
        lock (_lock)
        {
            long now = GuestCgroup.OomKills(_events);
            for (; _seen < now; _seen++) _report();
        }
    }

    private unsafe void Loop()
    {
        // struct inotify_event { int wd; uint32 mask, cookie, len; char name[]; } (no names for a file watch)
        byte* buffer = stackalloc byte[256];
        while (true)
        {
            nint n = Libc.read(_fd, buffer, 256);
            if (n < 0 && Libc.Errno == 4 /* EINTR */) continue;
            if (n <= 0) break;
            bool ignored = false;
            for (nint off = 0; off + 16 <= n; off += 16 + (nint)(*(uint*)(buffer + off + 12)))
                ignored |= (*(uint*)(buffer + off + 4) & Libc.IN_IGNORED) != 0;
            Check();
            if (ignored) break; // the watch is gone (removed by Dispose, or the cgroup was deleted)
        }
        lock (_lock)
        {
            _closed = true;
            Libc.close(_fd);
        }
    }

    /// <summary>Removing the watch queues IN_IGNORED, which ends the thread (it closes the fd).</summary>
    public void Dispose()
    {
        lock (_lock)
            if (_fd >= 0 && _wd >= 0 && !_closed) Libc.inotify_rm_watch(_fd, _wd);
    }
}
