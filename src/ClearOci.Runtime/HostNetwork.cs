using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>
/// The supervisor stands in for the container's process on the host, so it lives in the
/// container's network namespace: a new one when config.json asks for one (docker's prestart hook
/// then wires that namespace through /proc/PID/ns/net), the given one when it names a path
/// (podman), the host's when it names none. Must run on the main thread, whose namespace
/// /proc/PID/ns/net shows. What that namespace holds once the hooks ran is mirrored into the VM
/// (<see cref="NetworkMirror"/>); the host's own namespace never is.
/// </summary>
public static class HostNetwork
{
    /// <summary>Enters the container's namespace; returns an open fd of it, or -1 when config.json has none.</summary>
    public static int EnterFor(OciSpec spec)
    {
        var ns = NetworkNamespace(spec);
        if (ns is null) return -1;
        if (string.IsNullOrEmpty(ns.Path))
        {
            Libc.Check(Libc.unshare(Libc.CLONE_NEWNET), "unshare the network namespace");
            return Libc.Check(Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open the new network namespace");
        }
        int fd = OpenPath(ns.Path);
        try { Libc.Check(Libc.setns(fd, Libc.CLONE_NEWNET), $"join network namespace {ns.Path}"); }
        catch { Libc.close(fd); throw; }
        return fd;
    }

    /// <summary>
    /// For `run` (which stays in the caller's namespace): an open fd of the namespace config.json
    /// names by path, else -1 (a new namespace would be empty: nothing to mirror).
    /// </summary>
    public static int OpenNamed(OciSpec spec) =>
        NetworkNamespace(spec) is { Path: { Length: > 0 } path } ? OpenPath(path) : -1;

    private static LinuxNamespace? NetworkNamespace(OciSpec spec) => spec.Linux?.Namespaces?.FirstOrDefault(n => n.Type == "network");

    private static int OpenPath(string path) =>
        Libc.Check(Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), $"open network namespace {path}");
}
