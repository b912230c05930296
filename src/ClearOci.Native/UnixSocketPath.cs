namespace ClearOci.Native;

/// <summary>
/// A unix socket path has at most 107 bytes. A longer one is reached through its directory's
/// fd instead: /proc/self/fd/N/NAME, which bind and connect both follow.
/// </summary>
public static class UnixSocketPath
{
    public const int MaxBytes = 107;

    public static T Use<T>(string path, Func<string, T> use)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(path) <= MaxBytes) return use(path);
        string dir = Path.GetDirectoryName(path) ?? "/";
        int fd = Libc.Check(Libc.open(dir, 0x200000 /* O_PATH */ | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), $"open {dir}");
        try { return use($"/proc/self/fd/{fd}/{Path.GetFileName(path)}"); }
        finally { Libc.close(fd); }
    }
}
