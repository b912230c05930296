using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Vmm;

/// <summary>virtiofsd's argv (pure).</summary>
public static class VirtiofsdCommandLine
{
    public static IReadOnlyList<string> Build(string binary, string sharedDir, int listenFd) =>
    [
        // cache=auto keeps attributes 1 s: a file the host made longer can read cut to its old size
        // for up to a second. timeout=0 would close that but cost about 300 ms per create and 100 ms
        // per exec under TCG (docs/PERFORMANCE.md), so it is a documented gap (KNOWN-GAPS).
        binary, $"--fd={listenFd}", "-o", $"source={sharedDir}", "-o", "cache=auto", "-o", "sandbox=namespace",
        // Each bind is a host mount: announced, the guest gives it its own st_dev (no inode clashes).
        "-o", "announce_submounts",
        // 0 keeps the caller's open-file limit: raising it needs CAP_SYS_RESOURCE, which hosts may lack.
        "--rlimit-nofile=0", "--thread-pool-size=0",
    ];
}
