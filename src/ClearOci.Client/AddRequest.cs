namespace ClearOci.Client;

/// <summary>
/// Sent to a pod sandbox's supervisor by a later container's relay: create container
/// <see cref="ContainerId"/> of <see cref="Bundle"/> in this VM with the relay's fds 0-2 (SCM_RIGHTS)
/// as its stdio. Replied to twice: once created, then with its exit status.
/// </summary>
public sealed record AddRequest : SupervisorRequest
{
    public required string ContainerId { get; init; }
    public required string Bundle { get; init; }
    public string? ConsoleSocket { get; init; }
}
