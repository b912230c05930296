namespace ClearOci.Client;

/// <summary>A container's state as state.json records it (the OCI statuses).</summary>
public enum Status { Creating, Created, Running, Paused, Stopped }
