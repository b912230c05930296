using ClearOci.Client;
using ClearOci.Native;

namespace ClearOci.Shim;

/// <summary>Mounts containerd's rootfs (usually one overlay) on BUNDLE/rootfs, and takes it down again.</summary>
internal static class RootfsMounts
{
    public static void MountAll(IReadOnlyList<MountSpec> mounts, string target)
    {
        foreach (var m in mounts)
        {
            var o = MountOptions.Parse(m.Options);
            ulong flags = o.Flags | (o.Bind ? Libc.MS_BIND | (o.Recursive ? Libc.MS_REC : 0) : 0);
            Libc.Mount(m.Source, target, m.Type == "bind" ? null : m.Type, flags, o.Data.Length == 0 ? null : o.Data);
        }
    }

    /// <summary>Unmounts everything stacked on <paramref name="target"/>; idempotent.</summary>
    public static void Unmount(string target)
    {
        for (int i = 0; i < 16; i++)
        {
            if (Libc.umount2(target, 0) == 0) continue;
            int errno = Libc.Errno;
            if (errno == Libc.EBUSY && Libc.umount2(target, Libc.MNT_DETACH) == 0) continue;
            return; // EINVAL: nothing (more) mounted there; ENOENT: gone
        }
    }
}
