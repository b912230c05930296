namespace ClearOci.Client;

/// <summary>New linux.resources (JSON, already validated by the caller) for the container's cgroup in the guest.</summary>
public sealed record UpdateRequest : SupervisorRequest
{
    public required string ResourcesJson { get; init; }
}
