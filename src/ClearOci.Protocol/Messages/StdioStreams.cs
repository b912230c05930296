namespace ClearOci.Protocol;

/// <summary>Stream ids on the io channel for a process; 0 means none.</summary>
public sealed record StdioStreams
{
    public uint Stdin { get; init; }
    public uint Stdout { get; init; }
    public uint Stderr { get; init; }
}
