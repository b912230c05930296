namespace ClearOci.Client;

/// <summary>What `create` needs.</summary>
public sealed record CreateRequest
{
    public required string Id { get; init; }
    public required string Bundle { get; init; }
    public string? PidFile { get; init; }
    public string? ConsoleSocket { get; init; }
    public int PreserveFds { get; init; }
    /// <summary>The executable to run as the supervisor (`clearoci supervise ...`).</summary>
    public required string Self { get; init; }
    /// <summary>Global flags the supervisor must see too (--root, --debug...).</summary>
    public required IReadOnlyList<string> GlobalArgs { get; init; }
    /// <summary>
    /// The container's stdio as fds of this process, handed to the supervisor as its 0-2; null:
    /// this process's own 0-2 (the CLI's caller's). The shim passes the pipes containerd gave it.
    /// </summary>
    public (int In, int Out, int Err)? StdioFds { get; init; }
    /// <summary>
    /// `run` in the foreground: a terminal without --console-socket is the guest's pty relayed over
    /// the supervisor's stdio (the caller's), as runc relays its own pty to its stdio.
    /// </summary>
    public bool TerminalOnStdio { get; init; }
    /// <summary>Called with the supervisor's pid as soon as it is spawned (before it is ready).</summary>
    public Action<int>? OnSpawned { get; init; }
}
