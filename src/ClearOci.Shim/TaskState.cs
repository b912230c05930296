namespace ClearOci.Shim;

/// <summary>containerd.v1.types.Status.</summary>
public enum TaskState { Unknown = 0, Created = 1, Running = 2, Stopped = 3, Paused = 4, Pausing = 5 }
