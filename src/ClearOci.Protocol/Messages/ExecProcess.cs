namespace ClearOci.Protocol;

/// <summary>Run another process in a created or running container's namespaces, at once.</summary>
public sealed record ExecProcess : Message
{
    public required string ContainerId { get; init; }
    public required string ExecId { get; init; }
    /// <summary>The OCI process object as JSON (parsed by the agent).</summary>
    public required string ProcessJson { get; init; }
    public required StdioStreams Stdio { get; init; }
}
