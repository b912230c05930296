namespace ClearOci.Protocol;

/// <summary>Resource usage of a container. With one VM per container, the guest's totals are the container's.</summary>
public sealed record GetStats : Message
{
    public required string ContainerId { get; init; }
}
