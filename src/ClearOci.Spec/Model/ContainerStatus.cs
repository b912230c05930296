namespace ClearOci.Spec;

/// <summary>The status names of the OCI state (plus runc's <c>paused</c>).</summary>
public static class ContainerStatus
{
    public const string Creating = "creating";
    public const string Created = "created";
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Stopped = "stopped";
}
