namespace ClearOci;

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
