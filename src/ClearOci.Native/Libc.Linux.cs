using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>Mounts, namespaces, process image and power: what the guest agent needs.</summary>
public static unsafe partial class Libc
{
    public const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32,
        MS_BIND = 4096, MS_MOVE = 8192, MS_REC = 16384, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20,
        MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24, MS_NOATIME = 1024, MS_NODIRATIME = 2048, MS_UNBINDABLE = 1 << 17,
        MS_SYNCHRONOUS = 16, MS_DIRSYNC = 128, MS_MANDLOCK = 64, MS_LAZYTIME = 1 << 25, MS_SILENT = 32768;
    public const int MNT_DETACH = 2;
    public const int CLONE_NEWNS = 0x00020000, CLONE_NEWCGROUP = 0x02000000, CLONE_NEWUTS = 0x04000000,
        CLONE_NEWIPC = 0x08000000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000;

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string? source, string target, string? fstype, ulong flags, string? data);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chroot(string path);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chdir(string path);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdir(string path, int mode);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mknod(string path, int mode, ulong dev);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int symlink(string target, string linkpath);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int sethostname(string name, nint len);
    [LibraryImport(Lib, SetLastError = true)] public static partial int unshare(int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int reboot(int cmd);
    [LibraryImport(Lib, SetLastError = true)] public static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);
    [LibraryImport(Lib, SetLastError = true)] private static partial int execve(byte* path, byte** argv, byte** envp);

    public const int RB_POWER_OFF = 0x4321fedc, RB_AUTOBOOT = 0x01234567;
    private const long SYS_pivot_root = 155;

    public static int pivot_root(string newRoot, string putOld)
    {
        using var a = new Arena();
        return (int)syscall(SYS_pivot_root, (nint)a.Str(newRoot), (nint)a.Str(putOld), 0, 0, 0, 0);
    }

    /// <summary>Replaces this process image. Returns only on failure, with errno set.</summary>
    public static int Execve(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        var a = new Arena();
        // No Dispose on success: the image is gone. On failure, free and report.
        int rc = execve(a.Str(path), a.StrArray(args), a.StrArray(env));
        int errno = Errno;
        a.Dispose();
        Marshal.SetLastPInvokeError(errno);
        return rc;
    }

    public static void Mount(string? source, string target, string? fstype, ulong flags, string? data)
    {
        if (mount(source, target, fstype, flags, data) < 0)
            throw Error($"mount {source ?? "none"} on {target} ({fstype ?? "bind"})");
    }

    public static void MkdirAll(string path, int mode = 0x1ed /* 0755 */)
    {
        if (Directory.Exists(path)) return;
        string? parent = Path.GetDirectoryName(path);
        if (parent != null && parent != path) MkdirAll(parent, mode);
        if (mkdir(path, mode) < 0 && Errno != EEXIST) throw Error($"mkdir {path}");
    }
}

public static unsafe partial class Libc
{
    [LibraryImport(Lib)] public static partial void sync();
    [LibraryImport(Lib, SetLastError = true)] public static partial int setresuid(uint r, uint e, uint s);
    [LibraryImport(Lib, SetLastError = true)] public static partial int setresgid(uint r, uint e, uint s);
    [LibraryImport(Lib, SetLastError = true)] public static partial int setgroups(nint size, uint* list);
}

public static partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)] public static partial int setns(int fd, int nstype);
}
