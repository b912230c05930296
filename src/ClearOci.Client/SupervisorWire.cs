using System.Text.Json;

namespace ClearOci.Client;

/// <summary>
/// The supervisor protocol's lines (pure): requests and replies as one JSON line each, and the
/// reading of a request, refused with a clear error if it is not one or of another version. The
/// client (<see cref="SupervisorClient"/>) and the server (the sandbox host) both use it.
/// </summary>
public static class SupervisorWire
{
    public static byte[] Line(SupervisorRequest request) =>
        [.. JsonSerializer.SerializeToUtf8Bytes(request, RuntimeJsonContext.Default.SupervisorRequest), (byte)'\n'];

    public static byte[] Line(SupervisorReply reply) =>
        [.. JsonSerializer.SerializeToUtf8Bytes(reply, RuntimeJsonContext.Default.SupervisorReply), (byte)'\n'];

    /// <summary>One request line: InvalidArgument if unreadable, Unsupported if of another protocol version.</summary>
    public static SupervisorRequest ReadRequest(ReadOnlySpan<byte> line)
    {
        SupervisorRequest? request;
        try { request = JsonSerializer.Deserialize(line.TrimEnd((byte)'\n'), RuntimeJsonContext.Default.SupervisorRequest); }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw ClearOciException.Invalid($"unreadable supervisor request: {e.Message}");
        }
        if (request is null) throw ClearOciException.Invalid("empty supervisor request");
        if (request.Version != SupervisorRequest.CurrentVersion)
            throw new ClearOciException(ErrorCode.Unsupported,
                $"the container's supervisor speaks protocol version {SupervisorRequest.CurrentVersion}, the request is version {request.Version} (was clearoci replaced while the container ran?)");
        return request;
    }

    /// <summary>One reply line from <paramref name="socketPath"/>; a failed reply is raised as the supervisor's error.</summary>
    public static SupervisorReply ReadReply(string line, string socketPath)
    {
        SupervisorReply reply;
        try { reply = JsonSerializer.Deserialize(line, RuntimeJsonContext.Default.SupervisorReply) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new ClearOciException(ErrorCode.System, $"the container's supervisor ({socketPath}) sent an unreadable reply: {e.Message}"); }
        if (reply.Error is { } error) throw error.ToException();
        return reply;
    }
}
