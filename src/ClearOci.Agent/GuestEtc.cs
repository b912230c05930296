using System.Text;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>
/// The guest's own /etc: a tmpfs over the image's empty read-only directory, with hostname, hosts
/// and resolv.conf written at boot and again from the VM's first container's config.
/// </summary>
internal static class GuestEtc
{
    private const string Dir = "/etc";

    /// <summary>More than a resolv.conf ever needs; a bigger file is cut here.</summary>
    private const int MaxResolvConfBytes = 64 * 1024;

    private static readonly object Lock = new();
    private static bool _configured;

    /// <summary>At boot: the tmpfs and the defaults (localhost, no nameserver).</summary>
    public static void MountDefaults()
    {
        Libc.Mount("tmpfs", Dir, "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, "mode=0755,size=1m");
        Write(GuestEtcFiles.Default);
    }

    /// <summary>
    /// For the VM's first container only (its root share is mounted): the config's hostname, and the
    /// resolv.conf it binds (the source is a path in the share), else the one in its rootfs.
    /// </summary>
    public static void ConfigureFor(OciSpec spec, string containerId, string rootfs)
    {
        lock (Lock)
        {
            if (_configured) return;
            _configured = true;
        }
        string? source = GuestEtcFiles.ResolvConfSource(spec);
        string? resolv = source != null ? ReadRegularFile(source) : ReadRegularFile(Path.Combine(rootfs, "etc/resolv.conf"));
        Write(GuestEtcFiles.Render(spec, containerId, resolv));
    }

    private static void Write(GuestEtcFiles files)
    {
        // The agent's own UTS namespace (the root one): containers have theirs.
        int n = Encoding.UTF8.GetByteCount(files.Hostname);
        if (Libc.sethostname(files.Hostname, n) < 0) GuestBoot.Log($"sethostname: {Libc.StrError(Libc.Errno)}");
        File.WriteAllText(Path.Combine(Dir, "hostname"), files.Hostname + "\n");
        File.WriteAllText(Path.Combine(Dir, "hosts"), files.Hosts);
        File.WriteAllText(Path.Combine(Dir, "resolv.conf"), files.ResolvConf);
        GuestBoot.Log($"guest /etc: hostname {files.Hostname}, {files.Nameservers} nameservers");
    }

    /// <summary>The file's text if it is a regular file (a symbolic link would resolve in the guest's tree, not the container's); else null.</summary>
    private static string? ReadRegularFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.LinkTarget != null) return null;
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read);
            var buffer = new byte[MaxResolvConfBytes];
            int total = 0, read;
            while (total < buffer.Length && (read = f.Read(buffer, total, buffer.Length - total)) > 0) total += read;
            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            GuestBoot.Log($"reading {path}: {e.Message}");
            return null;
        }
    }
}
