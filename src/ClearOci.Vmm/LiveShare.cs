using System.Runtime.InteropServices;
using ClearOci.Native;

namespace ClearOci.Vmm;

/// <summary>
/// More binds in a share whose VM runs already (a second container of a pod). virtiofsd
/// (sandbox=namespace) serves from a mount namespace of its own whose root is the staging
/// directory, and nothing propagates into it. So each source is cloned here as a detached mount
/// (open_tree), then a thread that joined virtiofsd's mount namespace attaches it (move_mount)
/// under <c>subdir</c>. With announce_submounts the guest sees each bind as a submount on its
/// first lookup. The binds go with that namespace, so with virtiofsd, like the boot-time ones.
/// </summary>
public static partial class LiveShare
{
    private const long SYS_open_tree = 428, SYS_move_mount = 429, SYS_mount_setattr = 442;
    private const int AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000, AT_RECURSIVE = 0x8000;
    private const uint OPEN_TREE_CLONE = 1, OPEN_TREE_CLOEXEC = 0x80000, MOVE_MOUNT_F_EMPTY_PATH = 4;
    private const ulong MOUNT_ATTR_RDONLY = 1;
    private const int CLONE_FS = 0x200;

    /// <summary>Makes <c>staging/subdir/NAME</c> for every bind and mounts the sources there, in virtiofsd's view.</summary>
    public static void Add(SharedDirectory share, int virtiofsdPid, string subdir, IReadOnlyList<HostBind> binds)
    {
        CheckName(subdir);
        string dir = Path.Combine(share.Staging, subdir);
        if (Libc.mkdir(dir, 0x1c0) < 0) throw Libc.Error($"mkdir {dir}");
        var trees = new List<int>();
        try
        {
            foreach (var b in binds)
            {
                CheckName(b.Name);
                string target = Path.Combine(dir, b.Name);
                if (Directory.Exists(b.Source)) Libc.MkdirAll(target);
                else if (File.Exists(b.Source)) File.WriteAllBytes(target, []);
                else throw new ClearOciException(ErrorCode.NotFound, $"bind mount source {b.Source} does not exist");
                trees.Add(Clone(b));
            }
            int served = ServingProcess(virtiofsdPid, subdir);
            int ns = Libc.Check(Libc.open($"/proc/{served}/ns/mnt", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open virtiofsd's mount namespace");
            try
            {
                NamespaceThread.Run(() => EnterMounts(ns), () =>
                {
                    for (int i = 0; i < binds.Count; i++)
                        Check(syscall(SYS_move_mount, trees[i], "", AT_FDCWD, $"/{subdir}/{binds[i].Name}", MOVE_MOUNT_F_EMPTY_PATH), $"attach {binds[i].Source} to the share");
                    return 0;
                });
            }
            finally { Libc.close(ns); }
        }
        catch
        {
            RemoveEntries(dir);
            throw;
        }
        finally { foreach (int fd in trees) Libc.close(fd); }
    }

    /// <summary>Detaches what <see cref="Add"/> attached (lazily: the guest may still hold it) and removes the entries. Best effort.</summary>
    public static void Remove(SharedDirectory share, int virtiofsdPid, string subdir)
    {
        CheckName(subdir);
        string dir = Path.Combine(share.Staging, subdir);
        if (!Directory.Exists(dir)) return;
        try
        {
            int served = ServingProcess(virtiofsdPid, subdir);
            int ns = Libc.Check(Libc.open($"/proc/{served}/ns/mnt", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open virtiofsd's mount namespace");
            try
            {
                NamespaceThread.Run(() => EnterMounts(ns), () =>
                {
                    foreach (var entry in Directory.EnumerateFileSystemEntries($"/{subdir}"))
                        Libc.umount2(entry, Libc.MNT_DETACH);
                    return 0;
                });
            }
            finally { Libc.close(ns); }
        }
        catch (ClearOciException) { /* virtiofsd is gone: so are its mounts */ }
        RemoveEntries(dir);
    }

    private static void RemoveEntries(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void CheckName(string name)
    {
        if (name.Length == 0 || name.Contains('/') || name is "." or "..")
            throw new ClearOciException(ErrorCode.Internal, $"bad staging name \"{name}\"");
    }

    /// <summary>A detached copy of the source (recursive for rbind), read-only if asked.</summary>
    private static int Clone(HostBind b)
    {
        uint flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (b.Recursive ? (uint)AT_RECURSIVE : 0);
        int fd = (int)Check(syscall(SYS_open_tree, AT_FDCWD, b.Source, flags), $"clone the mount of {b.Source}");
        if (b.ReadOnly)
        {
            var attr = new MountAttr { AttrSet = MOUNT_ATTR_RDONLY };
            long rc = mount_setattr(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, ref attr, (nuint)Marshal.SizeOf<MountAttr>());
            if (rc < 0)
            {
                var e = Libc.Error($"make the bind of {b.Source} read-only");
                Libc.close(fd);
                throw e;
            }
        }
        return fd;
    }

    /// <summary>
    /// virtiofsd's child (sandbox=namespace forks once): the process whose root is the staging
    /// directory. Checked by finding <paramref name="subdir"/>, just made on the host, under its root.
    /// </summary>
    private static int ServingProcess(int virtiofsdPid, string subdir)
    {
        var candidates = new List<int>();
        try
        {
            foreach (var c in File.ReadAllText($"/proc/{virtiofsdPid}/task/{virtiofsdPid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                candidates.Add(int.Parse(c));
        }
        catch (IOException) { }
        candidates.Add(virtiofsdPid);
        foreach (int pid in candidates)
            if (Path.Exists($"/proc/{pid}/root/{subdir}")) return pid;
        throw new ClearOciException(ErrorCode.System, $"virtiofsd (pid {virtiofsdPid}) is not serving the share any more");
    }

    /// <summary>A thread may join a mount namespace only once it has its own root and cwd (CLONE_FS).</summary>
    private static void EnterMounts(int nsFd)
    {
        Libc.Check(Libc.unshare(CLONE_FS), "unshare the thread's fs context");
        Libc.Check(Libc.setns(nsFd, Libc.CLONE_NEWNS), "join virtiofsd's mount namespace");
    }

    private static long Check(long rc, string what) => rc < 0 ? throw Libc.Error(what) : rc;

    [StructLayout(LayoutKind.Sequential)]
    private struct MountAttr
    {
        public ulong AttrSet, AttrClr, Propagation, UsernsFd;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall(long number, int dirfd, string path, uint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall(long number, int fromFd, string fromPath, int toDirFd, string toPath, uint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long mount_setattr(long number, int dirfd, string path, int flags, ref MountAttr attr, nuint size);
}
