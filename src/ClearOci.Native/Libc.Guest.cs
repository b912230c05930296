using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>What the init stage needs to give a container process runc's identity and limits.</summary>
public static unsafe partial class Libc
{
    public const int ENOTDIR = 20, EACCES = 13;
    public const int PR_SET_KEEPCAPS = 8, PR_CAPBSET_DROP = 24, PR_SET_NO_NEW_PRIVS = 38,
        PR_CAP_AMBIENT = 47, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_CLEAR_ALL = 4;
    public const int S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFBLK = 0x6000;
    public const ulong ST_RDONLY = 1, ST_NOSUID = 2, ST_NODEV = 4, ST_NOEXEC = 8, ST_NOATIME = 1024,
        ST_NODIRATIME = 2048, ST_RELATIME = 4096;

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int setdomainname(string name, nint len);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lchown(string path, uint owner, uint group);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chmod(string path, uint mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fchdir(int fd);
    [LibraryImport(Lib, SetLastError = true)] public static partial int prlimit(int pid, int resource, Rlimit* limit, Rlimit* old);
    [LibraryImport(Lib, SetLastError = true)] private static partial int capset(CapHeader* header, CapData* data);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statvfs(string path, StatVfs* buf);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lstat(string path, Stat* buf);

    [StructLayout(LayoutKind.Sequential)]
    public struct Rlimit { public ulong Soft; public ulong Hard; }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader { public uint Version; public int Pid; }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData { public uint Effective; public uint Permitted; public uint Inheritable; }

    [StructLayout(LayoutKind.Sequential)]
    private struct StatVfs
    {
        public ulong Bsize, Frsize, Blocks, Bfree, Bavail, Files, Ffree, Favail, Fsid, Flag, Namemax;
        public fixed int Spare[6];
    }

    /// <summary>struct stat of x86_64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Stat
    {
        public ulong Dev, Ino, Nlink;
        public uint Mode, Uid, Gid, Pad0;
        public ulong Rdev;
        public long Size, Blksize, Blocks;
        public fixed long Times[6];
        public fixed long Reserved[3];
    }

    /// <summary>Type and permission bits, owner and device number of <paramref name="path"/> (not following a final link).</summary>
    public static (uint Mode, uint Uid, uint Gid, ulong Rdev) LStat(string path)
    {
        Stat s;
        Check(lstat(path, &s), $"lstat {path}");
        return (s.Mode, s.Uid, s.Gid, s.Rdev);
    }

    /// <summary>struct sched_attr (version 1, 56 bytes, with the utilization clamps).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SchedAttr
    {
        public uint Size, Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime, Deadline, Period;
        public uint UtilMin, UtilMax;
    }

    private const long SYS_personality = 135, SYS_ioprio_set = 251, SYS_sched_setattr = 314;

    public static int Personality(ulong persona) => (int)syscall(SYS_personality, (nint)persona, 0, 0, 0, 0, 0);

    /// <summary>ioprio_set(IOPRIO_WHO_PROCESS, this process, class and level).</summary>
    public static int IoprioSet(int ioClass, int level) => (int)syscall(SYS_ioprio_set, 1, 0, (ioClass << 13) | level, 0, 0, 0);

    public static int SchedSetattr(SchedAttr attr)
    {
        attr.Size = (uint)sizeof(SchedAttr);
        return (int)syscall(SYS_sched_setattr, 0, (nint)(&attr), 0, 0, 0, 0);
    }

    private const uint LinuxCapabilityVersion3 = 0x20080522;

    /// <summary>Sets this thread's effective, permitted and inheritable sets (bit N = capability N).</summary>
    public static void CapSet(ulong effective, ulong permitted, ulong inheritable)
    {
        var header = new CapHeader { Version = LinuxCapabilityVersion3 };
        CapData* data = stackalloc CapData[2];
        data[0] = new CapData { Effective = (uint)effective, Permitted = (uint)permitted, Inheritable = (uint)inheritable };
        data[1] = new CapData { Effective = (uint)(effective >> 32), Permitted = (uint)(permitted >> 32), Inheritable = (uint)(inheritable >> 32) };
        Check(capset(&header, data), "capset");
    }

    /// <summary>The mount flags (ST_*) of the filesystem holding <paramref name="path"/>.</summary>
    public static ulong MountFlagsOf(string path)
    {
        StatVfs s;
        Check(statvfs(path, &s), $"statvfs {path}");
        return s.Flag;
    }

    public static ulong MakeDev(long major, long minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (ulong)(minor & 0xff);
}
