using ClearOci.Native;

namespace ClearOci.Shim;

/// <summary>What one short-lived child did: its exit code and what it printed.</summary>
public sealed record ChildResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;
}
