using ClearOci.Native;
using ClearOci.Protocol;

namespace ClearOci.Agent;

/// <summary>virtio-fs shares in the guest: the container's root and the host paths it binds.</summary>
internal static class GuestShares
{
    private static readonly object Lock = new();

    /// <summary>
    /// Puts the container's root filesystem at <paramref name="rootfs"/>: the share itself, or (with
    /// a <see cref="CreateContainer.RootfsPath"/>) the share mounted once at its mount point, where
    /// the config's rewritten bind sources point, and its root directory bound here.
    /// </summary>
    public static void MountRootfs(CreateContainer m, string rootfs)
    {
        if (m.RootfsPath is null)
        {
            Libc.Mount(m.RootfsTag, rootfs, "virtiofs", 0, null);
            return;
        }
        string share = ProtocolInfo.ShareMountPoint(m.RootfsTag);
        lock (Lock)
        {
            if (!IsMountPoint(share))
            {
                Libc.MkdirAll(share);
                Libc.Mount(m.RootfsTag, share, "virtiofs", 0, null);
            }
        }
        Libc.Mount(Path.Combine(share, m.RootfsPath), rootfs, null, Libc.MS_BIND | Libc.MS_REC, null);
    }

    private static bool IsMountPoint(string path) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ')[4] == path);
}
