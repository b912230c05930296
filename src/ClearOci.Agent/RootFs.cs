using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>Builds the container's mount tree under its root and pivots into it.</summary>
internal static class RootFs
{
    public static void Prepare(string rootfs, OciSpec spec)
    {
        // Nothing we mount may leak back into the agent's namespace.
        Libc.Mount(null, "/", null, Libc.MS_REC | Libc.MS_PRIVATE, null);
        Libc.Mount(rootfs, rootfs, null, Libc.MS_BIND | Libc.MS_REC, null);
        foreach (var m in spec.Mounts ?? []) MountOne(rootfs, m);
        PivotInto(rootfs);
        if (spec.Root?.Readonly == true)
            Libc.Mount(null, "/", null, Libc.MS_BIND | Libc.MS_REMOUNT | Libc.MS_RDONLY | Libc.MS_REC, null);
    }

    private static void MountOne(string rootfs, Mount m)
    {
        string target = Path.Combine(rootfs, m.Destination.TrimStart('/'));
        var o = MountOptions.Parse(m.Options);
        string type = m.Type ?? (o.Bind ? "bind" : "none");
        if (o.Bind || type == "bind")
        {
            // Host paths reach the guest through virtio-fs shares: until they are wired, a bind whose
            // source the guest does not have is skipped (and said so on the console).
            if (m.Source == null || !Path.Exists(m.Source)) { GuestBoot.Log($"skipping bind {m.Source} -> {m.Destination}: not shared into the guest"); return; }
            if (Directory.Exists(m.Source)) Libc.MkdirAll(target);
            else { Libc.MkdirAll(Path.GetDirectoryName(target)!); if (!File.Exists(target)) File.WriteAllBytes(target, []); }
            Libc.Mount(m.Source, target, null, Libc.MS_BIND | (o.Recursive ? Libc.MS_REC : 0), null);
            if ((o.Flags & ~Libc.MS_REMOUNT) != 0)
                Libc.Mount(null, target, null, Libc.MS_BIND | Libc.MS_REMOUNT | o.Flags, null);
        }
        else
        {
            Libc.MkdirAll(target);
            string data = o.Data;
            if (type == "cgroup") return; // guest cgroups come with resources support
            Libc.Mount(m.Source ?? type, target, type, o.Flags & ~Libc.MS_REMOUNT, data.Length == 0 ? null : data);
            if (type == "tmpfs" && m.Destination == "/dev") MakeDevNodes(target);
        }
        if (o.Propagation != 0) Libc.Mount(null, target, null, o.Propagation, null);
    }

    private static void MakeDevNodes(string dev)
    {
        foreach (var name in (string[])["null", "zero", "full", "random", "urandom", "tty"])
        {
            // Bind the guest's own node: mknod may be refused, a bind never is.
            string target = Path.Combine(dev, name);
            File.WriteAllBytes(target, []);
            Libc.Mount($"/dev/{name}", target, null, Libc.MS_BIND, null);
        }
        Libc.symlink("/proc/self/fd", Path.Combine(dev, "fd"));
        Libc.symlink("/proc/self/fd/0", Path.Combine(dev, "stdin"));
        Libc.symlink("/proc/self/fd/1", Path.Combine(dev, "stdout"));
        Libc.symlink("/proc/self/fd/2", Path.Combine(dev, "stderr"));
        Libc.symlink("pts/ptmx", Path.Combine(dev, "ptmx"));
    }

    private static void PivotInto(string rootfs)
    {
        Libc.Check(Libc.chdir(rootfs), $"chdir {rootfs}");
        if (Libc.pivot_root(".", ".") == 0)
        {
            // The old root is stacked under the new one: detach it.
            Libc.Mount(null, ".", null, Libc.MS_SLAVE | Libc.MS_REC, null);
            Libc.Check(Libc.umount2(".", Libc.MNT_DETACH), "umount old root");
        }
        else
        {
            // An initramfs root cannot be pivoted away from: move the mount and chroot.
            Libc.Mount(rootfs, "/", null, Libc.MS_MOVE, null);
            Libc.Check(Libc.chroot("."), "chroot");
        }
        Libc.Check(Libc.chdir("/"), "chdir /");
    }
}
