namespace ClearOci.Protocol;

/// <summary>
/// Freezes (or thaws) every process of one container with its cgroup's freezer in the guest, the
/// rest of the VM running on: a pod's container is paused alone. Answered once the kernel reports
/// the group frozen (thawed).
/// </summary>
public sealed record FreezeContainer : Message
{
    public required string ContainerId { get; init; }
    public bool Frozen { get; init; }
}
