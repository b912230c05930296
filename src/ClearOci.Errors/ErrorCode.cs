namespace ClearOci;

/// <summary>The closed set of failure classes. Mapped to exit codes and wire errors in one place each.</summary>
public enum ErrorCode
{
    /// <summary>The user's input is malformed (config.json, flags, ids).</summary>
    InvalidArgument,
    /// <summary>The container (or another named object) does not exist.</summary>
    NotFound,
    /// <summary>The object exists already.</summary>
    AlreadyExists,
    /// <summary>The verb is not legal in the container's current state.</summary>
    InvalidState,
    /// <summary>The host cannot do this (no QEMU, no assets, no KVM and TCG refused...).</summary>
    Unsupported,
    /// <summary>A system call or child process failed.</summary>
    System,
    /// <summary>The guest agent reported a failure or the channel to it broke.</summary>
    Agent,
    /// <summary>Something did not happen before its deadline.</summary>
    Timeout,
    /// <summary>An invariant of ClearOci itself was broken: a bug.</summary>
    Internal,
}
