using System.Net.Sockets;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Vmm;

/// <summary>virtiofsd's argv (pure).</summary>
public static class VirtiofsdCommandLine
{
    public static IReadOnlyList<string> Build(string binary, string sharedDir, int listenFd) =>
    [
        binary, $"--fd={listenFd}", "-o", $"source={sharedDir}", "-o", "cache=auto",
        // No attribute or entry caching (cache=auto keeps them 1 s): a file the host made longer
        // would read cut to its old size in the guest, and bind mounts are as coherent as runc's.
        "-o", "timeout=0",
        "-o", "sandbox=namespace",
        // Each bind is a host mount: announced, the guest gives it its own st_dev (no inode clashes).
        "-o", "announce_submounts",
        // 0 keeps the caller's open-file limit: raising it needs CAP_SYS_RESOURCE, which hosts may lack.
        "--rlimit-nofile=0", "--thread-pool-size=0",
    ];
}
