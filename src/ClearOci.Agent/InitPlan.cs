using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>What the agent hands the init stage (on fd 3): where the root is, and the config.</summary>
internal sealed record InitPlan
{
    public required string RootfsPath { get; init; }
    public required OciSpec Spec { get; init; }
    /// <summary>The container's cgroup v2 group in the guest (what a "cgroup" mount shows).</summary>
    public string? CgroupPath { get; init; }
    /// <summary>Set for exec: the process to run in the existing container (its root and namespaces are joined already).</summary>
    public Process? Exec { get; init; }
    /// <summary>--preserve-fds: (fd the stage got, fd the process must have), moved into place just before exec.</summary>
    public List<int[]> ExtraFds { get; init; } = [];
    /// <summary>linux.seccomp, compiled by the agent before the stage is spawned (null: none).</summary>
    public ClearOci.Seccomp.SeccompFilter? Seccomp { get; init; }
}
