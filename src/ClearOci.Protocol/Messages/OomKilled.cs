namespace ClearOci.Protocol;

/// <summary>
/// Event: the kernel's OOM killer ended a process of the container (its cgroup's
/// memory.events oom_kill counter went up). Sent once per kill, before that process's
/// <see cref="ProcessExited"/>.
/// </summary>
public sealed record OomKilled : Message
{
    public required string ContainerId { get; init; }
}
