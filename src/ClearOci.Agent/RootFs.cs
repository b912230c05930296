using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>
/// Builds the container's mount tree under its root and pivots into it, in runc's order:
/// <see cref="Prepare"/> (mounts, /dev, pivot, root propagation), then, once the console is set up,
/// <see cref="MakeRootReadonly"/>, and after the sysctls <see cref="ProtectPaths"/> (readonly and
/// masked paths).
/// </summary>
internal static class RootFs
{
    /// <summary>runc's default devices, made when /dev is not a bind mount (a config entry with the same path wins).</summary>
    private static readonly LinuxDevice[] DefaultDevices =
    [
        Char("/dev/null", 1, 3), Char("/dev/zero", 1, 5), Char("/dev/full", 1, 7),
        Char("/dev/random", 1, 8), Char("/dev/urandom", 1, 9), Char("/dev/tty", 5, 0),
    ];

    private static LinuxDevice Char(string path, long major, long minor) =>
        new() { Path = path, Type = "c", Major = major, Minor = minor, FileMode = 0x1b6 /* 0666 */, Uid = 0, Gid = 0 };

    public static void Prepare(InitPlan plan)
    {
        string rootfs = plan.RootfsPath;
        var spec = plan.Spec;
        // Nothing we mount may leak back into the agent's namespace.
        Libc.Mount(null, "/", null, Libc.MS_REC | Libc.MS_PRIVATE, null);
        Libc.Mount(rootfs, rootfs, null, Libc.MS_BIND | Libc.MS_REC, null);
        foreach (var m in spec.Mounts ?? []) MountOne(rootfs, m, plan.CgroupPath);
        bool devIsBind = (spec.Mounts ?? []).Any(m => m.Destination.TrimEnd('/') == "/dev" && MountOptions.Parse(m.Options) is var o && (o.Bind || m.Type == "bind"));
        if (!devIsBind)
        {
            CreateDevices(rootfs, spec.Linux?.Devices ?? []);
            SetUpDevLinks(rootfs);
        }
        // runc makes the cwd when it is missing.
        if (spec.Process?.Cwd is { Length: > 0 } cwd) Libc.MkdirAll(InRoot(rootfs, cwd));
        PivotInto(rootfs);
        if (spec.Linux?.RootfsPropagation is { Length: > 0 } propagation)
            Libc.Mount(null, "/", null, MountOptions.Parse([propagation]).Propagation, null);
    }

    public static void MakeRootReadonly(OciSpec spec)
    {
        if (spec.Root?.Readonly == true)
            Libc.Mount(null, "/", null, Libc.MS_BIND | Libc.MS_REMOUNT | Libc.MS_RDONLY | PreservedFlags("/"), null);
    }

    /// <summary>
    /// readonlyPaths: a read-only bind of the path on itself. maskedPaths: /dev/null bound over a
    /// file, an empty read-only tmpfs over a directory. Paths that do not exist are skipped (as runc).
    /// </summary>
    public static void ProtectPaths(Linux? linux)
    {
        foreach (var path in linux?.ReadonlyPaths ?? [])
        {
            if (!Path.Exists(path)) continue;
            Libc.Mount(path, path, null, Libc.MS_BIND | Libc.MS_REC, null);
            Libc.Mount(null, path, null, Libc.MS_BIND | Libc.MS_REMOUNT | Libc.MS_RDONLY | PreservedFlags(path), null);
        }
        foreach (var path in linux?.MaskedPaths ?? [])
        {
            if (!Path.Exists(path)) continue;
            if (Libc.mount("/dev/null", path, null, Libc.MS_BIND, null) == 0) continue;
            if (Libc.Errno != Libc.ENOTDIR) throw Libc.Error($"mask {path}");
            Libc.Mount("tmpfs", path, "tmpfs", Libc.MS_RDONLY, null);
        }
    }

    /// <summary>The nosuid/nodev/noexec/atime flags of the mount holding <paramref name="path"/>, kept across a bind remount.</summary>
    private static ulong PreservedFlags(string path)
    {
        ulong st = Libc.MountFlagsOf(path), flags = 0;
        if ((st & Libc.ST_NOSUID) != 0) flags |= Libc.MS_NOSUID;
        if ((st & Libc.ST_NODEV) != 0) flags |= Libc.MS_NODEV;
        if ((st & Libc.ST_NOEXEC) != 0) flags |= Libc.MS_NOEXEC;
        if ((st & Libc.ST_NOATIME) != 0) flags |= Libc.MS_NOATIME;
        if ((st & Libc.ST_NODIRATIME) != 0) flags |= Libc.MS_NODIRATIME;
        if ((st & Libc.ST_RELATIME) != 0) flags |= Libc.MS_RELATIME;
        return flags;
    }

    /// <summary>
    /// <paramref name="path"/> under <paramref name="root"/> with every symlink on the way resolved
    /// inside the root (an absolute link means the container's /, `..` stops at it), so a mount
    /// destination such as /var/run -> /run lands in the container, never in the guest.
    /// </summary>
    public static string InRoot(string root, string path)
    {
        var done = new List<string>();
        var todo = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        int links = 0;
        while (todo.Count > 0)
        {
            string part = todo.Pop();
            if (part == ".") continue;
            if (part == "..") { if (done.Count > 0) done.RemoveAt(done.Count - 1); continue; }
            string full = Path.Combine(root, Path.Combine([.. done, part]));
            string? target = new FileInfo(full).LinkTarget;
            if (target is null) { done.Add(part); continue; }
            if (++links > 255) throw ClearOciException.Invalid($"{path}: too many levels of symbolic links in the container's root");
            if (target.StartsWith('/')) done.Clear();
            foreach (var p in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse()) todo.Push(p);
        }
        return done.Count == 0 ? root : Path.Combine(root, Path.Combine([.. done]));
    }

    private static void MountOne(string rootfs, Mount m, string? cgroupPath)
    {
        string target = InRoot(rootfs, m.Destination);
        var o = MountOptions.Parse(m.Options);
        string type = m.Type ?? (o.Bind ? "bind" : "none");
        if (o.Bind || type == "bind")
        {
            // Host paths reach the guest through virtio-fs shares (the runtime rewrites their sources);
            // a bind whose source the guest does not have is skipped, and said so on the console.
            if (m.Source == null || !Path.Exists(m.Source)) { StageLog.Write($"skipping bind {m.Source} -> {m.Destination}: not shared into the guest"); return; }
            BindTarget(m.Source, target);
            Libc.Mount(m.Source, target, null, Libc.MS_BIND | (o.Recursive ? Libc.MS_REC : 0), null);
            if ((o.Flags & ~Libc.MS_REMOUNT) != 0)
                Libc.Mount(null, target, null, Libc.MS_BIND | Libc.MS_REMOUNT | o.Flags, null);
        }
        else if (type is "cgroup" or "cgroup2")
        {
            // The guest runs cgroup v2: the container sees its own group, as runc binds it on a v2 host.
            if (cgroupPath is null || !Directory.Exists(cgroupPath)) { StageLog.Write($"no cgroup for {m.Destination}; skipped"); return; }
            Libc.MkdirAll(target);
            Libc.Mount(cgroupPath, target, null, Libc.MS_BIND | Libc.MS_REC, null);
            Libc.Mount(null, target, null, Libc.MS_BIND | Libc.MS_REMOUNT | (o.Flags & ~Libc.MS_REMOUNT), null);
        }
        else if (type == "tmpfs" && o.TmpCopyUp && Directory.Exists(target))
        {
            CopyUp(target, m.Source ?? type, o);
        }
        else
        {
            Libc.MkdirAll(target);
            Libc.Mount(m.Source ?? type, target, type, o.Flags & ~Libc.MS_REMOUNT, o.Data.Length == 0 ? null : o.Data);
        }
        if (o.Propagation != 0) Libc.Mount(null, target, null, o.Propagation, null);
    }

    /// <summary>A bind needs a target of the source's kind: a directory, or an (empty) file.</summary>
    private static void BindTarget(string source, string target)
    {
        if (Directory.Exists(source)) { Libc.MkdirAll(target); return; }
        Libc.MkdirAll(Path.GetDirectoryName(target)!);
        if (!Path.Exists(target)) File.WriteAllBytes(target, []);
    }

    private static int _copyUps;

    /// <summary>
    /// tmpcopyup (podman): a tmpfs that starts with what the directory held. The tmpfs is filled in
    /// a private staging directory and then moved over the destination.
    /// </summary>
    private static void CopyUp(string target, string source, ParsedMountOptions o)
    {
        string staging = $"/tmp/.clearoci-copyup-{Environment.ProcessId}-{_copyUps++}";
        Libc.MkdirAll(staging, 0x1c0 /* 0700 */);
        Libc.Mount(source, staging, "tmpfs", o.Flags & ~(Libc.MS_REMOUNT | Libc.MS_RDONLY), o.Data.Length == 0 ? null : o.Data);
        CopyTree(target, staging);
        var (mode, uid, gid, _) = Libc.LStat(target);
        if (!o.Data.Split(',').Any(d => d.StartsWith("mode=", StringComparison.Ordinal))) Libc.chmod(staging, mode & 0xfff);
        Libc.lchown(staging, uid, gid);
        if ((o.Flags & Libc.MS_RDONLY) != 0)
            Libc.Mount(null, staging, null, Libc.MS_REMOUNT | (o.Flags & ~Libc.MS_REMOUNT), o.Data.Length == 0 ? null : o.Data);
        Libc.Mount(staging, target, null, Libc.MS_MOVE, null);
        Directory.Delete(staging);
    }

    /// <summary>Copies a tree with modes, owners, links and special files (as cp -a, without xattrs).</summary>
    private static void CopyTree(string from, string to)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(from))
        {
            string dest = Path.Combine(to, Path.GetFileName(entry));
            var (mode, uid, gid, rdev) = Libc.LStat(entry);
            switch (mode & 0xf000)
            {
                case 0xa000: File.CreateSymbolicLink(dest, new FileInfo(entry).LinkTarget!); break;
                case 0x4000: Libc.MkdirAll(dest); CopyTree(entry, dest); break;
                case 0x8000: File.Copy(entry, dest); break;
                default: Libc.Check(Libc.mknod(dest, (int)mode, rdev), $"mknod {dest}"); break;
            }
            if ((mode & 0xf000) != 0xa000) Libc.chmod(dest, mode & 0xfff);
            Libc.lchown(dest, uid, gid);
        }
    }

    /// <summary>runc's default devices plus linux.devices, by mknod (a bind of the guest's node if mknod is refused).</summary>
    private static void CreateDevices(string rootfs, IReadOnlyList<LinuxDevice> configured)
    {
        var devices = DefaultDevices.Where(d => !configured.Any(c => c.Path == d.Path)).Concat(configured);
        int old = Libc.umask(0);
        try
        {
            foreach (var d in devices)
            {
                string path = InRoot(rootfs, d.Path);
                Libc.MkdirAll(Path.GetDirectoryName(path)!);
                int type = d.Type switch { "b" => Libc.S_IFBLK, "p" => Libc.S_IFIFO, _ => Libc.S_IFCHR };
                int mode = type | (int)((d.FileMode ?? 0x1b6) & 0xfff);
                if (Libc.mknod(path, mode, d.Type == "p" ? 0 : Libc.MakeDev(d.Major, d.Minor)) < 0)
                {
                    if (Libc.Errno == Libc.EEXIST) continue;
                    if (Libc.Errno != Libc.EPERM || !File.Exists(d.Path)) throw Libc.Error($"mknod {d.Path}");
                    BindTarget(d.Path, path);
                    Libc.Mount(d.Path, path, null, Libc.MS_BIND, null);
                    continue;
                }
                Libc.Check(Libc.lchown(path, d.Uid ?? 0, d.Gid ?? 0), $"chown {d.Path}");
            }
        }
        finally { Libc.umask(old); }
    }

    private static void SetUpDevLinks(string rootfs)
    {
        string dev = InRoot(rootfs, "/dev");
        string ptmx = Path.Combine(dev, "ptmx");
        if (Path.Exists(ptmx) || new FileInfo(ptmx).LinkTarget != null) File.Delete(ptmx);
        Libc.Check(Libc.symlink("pts/ptmx", ptmx), "symlink /dev/ptmx");
        var links = new List<(string Target, string Name)>
        {
            ("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"), ("/proc/self/fd/2", "stderr"),
        };
        if (File.Exists("/proc/kcore")) links.Add(("/proc/kcore", "core"));
        foreach (var (target, name) in links)
            if (Libc.symlink(target, Path.Combine(dev, name)) < 0 && Libc.Errno != Libc.EEXIST)
                throw Libc.Error($"symlink /dev/{name}");
    }

    private static void PivotInto(string rootfs)
    {
        int oldRoot = Libc.Check(Libc.open("/", Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open /");
        Libc.Check(Libc.chdir(rootfs), $"chdir {rootfs}");
        if (Libc.pivot_root(".", ".") == 0)
        {
            // The old root is stacked on top of the new one: from inside it (so "." is the old root's
            // mount, not the container's, whose propagation must stay as configured) detach it.
            Libc.Check(Libc.fchdir(oldRoot), "fchdir to the old root");
            Libc.Mount(null, ".", null, Libc.MS_SLAVE | Libc.MS_REC, null);
            Libc.Check(Libc.umount2(".", Libc.MNT_DETACH), "umount old root");
            Libc.close(oldRoot);
        }
        else
        {
            // An initramfs root cannot be pivoted away from: move the mount and chroot.
            Libc.close(oldRoot);
            Libc.Mount(rootfs, "/", null, Libc.MS_MOVE, null);
            Libc.Check(Libc.chroot("."), "chroot");
        }
        Libc.Check(Libc.chdir("/"), "chdir /");
    }
}
