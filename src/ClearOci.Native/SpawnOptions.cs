namespace ClearOci.Native;

/// <summary>What a child gets: its program, argv, env, fds and session.</summary>
public sealed class SpawnOptions
{
    public required string Path { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    /// <summary>The environment; null inherits the caller's.</summary>
    public IReadOnlyList<string>? Env { get; init; }
    /// <summary>Child fd number to the caller's fd that becomes it. Everything else is closed.</summary>
    public IReadOnlyDictionary<int, int> Fds { get; init; } = new Dictionary<int, int>();
    /// <summary>Start a new session (setsid), detached from the caller's terminal and group.</summary>
    public bool NewSession { get; init; }
    public string? WorkingDirectory { get; init; }
}
