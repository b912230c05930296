namespace ClearOci.Client;

/// <summary>Runs the created process (startContainer hooks, then the process, then poststart hooks).</summary>
public sealed record StartRequest : SupervisorRequest;
