namespace ClearOci.Client;

/// <summary>
/// Runs another process in the container. Carries the caller's fds 0-2 (SCM_RIGHTS), which become
/// its stdio; replied to twice: once started, then with its exit status.
/// </summary>
public sealed record ExecRequest : SupervisorRequest
{
    public required string ExecId { get; init; }
    /// <summary>The OCI process JSON (validated by the caller).</summary>
    public required string ProcessJson { get; init; }
    /// <summary>With a terminal: where the pty master goes.</summary>
    public string? ConsoleSocket { get; init; }
}
