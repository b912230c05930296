namespace ClearOci.Client;

/// <summary>Signals the container's process, or with <see cref="ExecId"/> one of its exec'd processes.</summary>
public sealed record KillRequest : SupervisorRequest
{
    public int Signal { get; init; }
    public string? ExecId { get; init; }
}
