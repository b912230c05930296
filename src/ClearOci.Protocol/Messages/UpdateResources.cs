namespace ClearOci.Protocol;

/// <summary>New linux.resources for a container's cgroup in the guest.</summary>
public sealed record UpdateResources : Message
{
    public required string ContainerId { get; init; }
    public required string ResourcesJson { get; init; }
}
