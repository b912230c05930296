using System.Net.Sockets;
using System.Net;
using ClearOci.Protocol;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>The container's resolv.conf, as the host sees it.</summary>
public static class ResolvConf
{
    private const int MaxBytes = 64 * 1024;

    /// <summary>
    /// The text of the container's /etc/resolv.conf: the source of the last mount onto it
    /// (docker's and podman's bind), else the rootfs's own file; null when neither is a regular file.
    /// Symlinks are not followed: they would resolve against the host's root, not the container's.
    /// </summary>
    public static string? Read(OciSpec spec, string bundle, string rootfs)
    {
        // The mount the guest's own /etc takes it from too (GuestEtc); runc resolves a relative source against the bundle.
        string path = GuestEtcFiles.ResolvConfSource(spec) is { } source ? Path.GetFullPath(source, bundle)
            : Path.Combine(rootfs, GuestEtcFiles.ResolvConfPath.TrimStart('/'));
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.LinkTarget != null || info.Length > MaxBytes) return null;
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The loopback addresses among the first three `nameserver` lines (a resolver reads no more),
    /// in order, without duplicates, in IPAddress's canonical form.
    /// </summary>
    public static List<string> LoopbackNameservers(string resolvConf)
    {
        const int ResolverMax = 3;
        var found = new List<string>();
        foreach (var value in GuestEtcFiles.NameserversOf(resolvConf).Take(ResolverMax))
        {
            if (!IPAddress.TryParse(value, out var address) || !IPAddress.IsLoopback(address)) continue;
            string canonical = address.ToString();
            if (!found.Contains(canonical)) found.Add(canonical);
        }
        return found;
    }
}
