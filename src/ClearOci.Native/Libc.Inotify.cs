using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>inotify: the guest agent watches a cgroup's memory.events for OOM kills.</summary>
public static unsafe partial class Libc
{
    public const uint IN_MODIFY = 0x2, IN_IGNORED = 0x8000;

    [LibraryImport(Lib, SetLastError = true)] public static partial int inotify_init1(int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int inotify_add_watch(int fd, string path, uint mask);
    [LibraryImport(Lib, SetLastError = true)] public static partial int inotify_rm_watch(int fd, int wd);
}
