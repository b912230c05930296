using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>
/// The supervisor stands in for the container's process on the host, so it lives in the
/// container's network namespace: a new one when config.json asks for one (docker's prestart
/// hook then wires that namespace through /proc/PID/ns/net), the given one when it names a path
/// (podman), the host's when it names none. Must run on the main thread, whose namespace
/// /proc/PID/ns/net shows.
/// </summary>
public static class HostNetwork
{
    public static void EnterFor(OciSpec spec)
    {
        var ns = spec.Linux?.Namespaces?.FirstOrDefault(n => n.Type == "network");
        if (ns is null) return;
        if (string.IsNullOrEmpty(ns.Path))
        {
            Libc.Check(Libc.unshare(Libc.CLONE_NEWNET), "unshare the network namespace");
            return;
        }
        int fd = Libc.Check(Libc.open(ns.Path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), $"open network namespace {ns.Path}");
        try { Libc.Check(Libc.setns(fd, Libc.CLONE_NEWNET), $"join network namespace {ns.Path}"); }
        finally { Libc.close(fd); }
    }
}
