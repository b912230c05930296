using System.Text.Json;

namespace ClearOci.Client;

/// <summary>
/// A <see cref="ClearOciException"/> as it crosses a process boundary (the supervisor socket and
/// the ready pipes): its code and message, so the caller raises the same error, and the shim maps
/// the same code, whichever process failed. The one mapping each way.
/// </summary>
public sealed record WireError
{
    public required ErrorCode Code { get; init; }
    public required string Message { get; init; }

    /// <summary>Anything other than a ClearOciException is a bug: Internal, named as one.</summary>
    public static WireError From(Exception e) => e is ClearOciException c
        ? new WireError { Code = c.Code, Message = c.Message }
        : new WireError { Code = ErrorCode.Internal, Message = $"internal error: {e.GetType().Name}: {e.Message}" };

    public ClearOciException ToException() => new(Code, Message);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RuntimeJsonContext.Default.WireError);

    /// <summary>The error in <paramref name="json"/>; text that is not one (an older peer's plain message) is taken as a System error.</summary>
    public static WireError Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            if (JsonSerializer.Deserialize(json, RuntimeJsonContext.Default.WireError) is { Message: not null } e) return e;
        }
        catch (JsonException) { }
        return new WireError { Code = ErrorCode.System, Message = System.Text.Encoding.UTF8.GetString(json) };
    }
}
