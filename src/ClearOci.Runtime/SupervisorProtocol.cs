using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ClearOci.Spec;

namespace ClearOci.Runtime;

public sealed record SupervisorRequest
{
    public required string Op { get; init; }
    public int Signal { get; init; }
}

public sealed record SupervisorResponse
{
    public string? Error { get; init; }
    public string? Code { get; init; }
    public List<int>? Pids { get; init; }
}

/// <summary>One JSON line each way over `<root>/<id>/sock`.</summary>
public static class SupervisorClient
{
    public static async Task<SupervisorResponse> CallAsync(string socketPath, SupervisorRequest request, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token).ConfigureAwait(false);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            byte[] line = JsonSerializer.SerializeToUtf8Bytes(request, RuntimeJsonContext.Default.SupervisorRequest);
            await stream.WriteAsync(line.Append((byte)'\n').ToArray(), cts.Token).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string reply = await reader.ReadLineAsync(cts.Token).ConfigureAwait(false)
                ?? throw new ClearOciException(ErrorCode.System, "the container's supervisor closed the connection");
            var response = JsonSerializer.Deserialize(reply, RuntimeJsonContext.Default.SupervisorResponse)!;
            if (response.Error != null)
                throw new ClearOciException(Enum.TryParse<ErrorCode>(response.Code, out var c) ? c : ErrorCode.System, response.Error);
            return response;
        }
        catch (SocketException e) { throw new ClearOciException(ErrorCode.System, $"cannot reach the container's supervisor ({socketPath}): {e.Message}"); }
        catch (OperationCanceledException) { throw new ClearOciException(ErrorCode.Timeout, $"the container's supervisor did not answer within {timeout.TotalSeconds:0} s"); }
    }
}
