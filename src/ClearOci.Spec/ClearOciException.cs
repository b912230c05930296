namespace ClearOci.Spec;

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

/// <summary>The one error type of ClearOci. Context is added as it travels up (<see cref="WithContext"/>).</summary>
public sealed class ClearOciException : Exception
{
    public ClearOciException(ErrorCode code, string message, int errno = 0, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Errno = errno;
    }

    public ErrorCode Code { get; }

    /// <summary>The errno behind a <see cref="ErrorCode.System"/> failure, or 0.</summary>
    public int Errno { get; }

    /// <summary>Returns the same error with "context: " in front of its message.</summary>
    public ClearOciException WithContext(string context) => new(Code, $"{context}: {Message}", Errno, this);

    public static ClearOciException Invalid(string message) => new(ErrorCode.InvalidArgument, message);
}
