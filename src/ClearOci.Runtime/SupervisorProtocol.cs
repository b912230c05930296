using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ClearOci.Spec;

namespace ClearOci.Runtime;

public sealed record SupervisorRequest
{
    public required string Op { get; init; }
    public int Signal { get; init; }
    public string? ExecId { get; init; }
    /// <summary>For exec: the OCI process JSON. The request carries the caller's fds 0-2 (SCM_RIGHTS).</summary>
    public string? Process { get; init; }
    /// <summary>For update: the linux.resources JSON.</summary>
    public string? Resources { get; init; }
    /// <summary>For exec with a terminal: where to send the pty master.</summary>
    public string? ConsoleSocket { get; init; }
    /// <summary>For add (a pod's later container, sent to the pod's first supervisor): its id and bundle.</summary>
    public string? ContainerId { get; init; }
    public string? Bundle { get; init; }
}

public sealed record SupervisorResponse
{
    public string? Error { get; init; }
    public string? Code { get; init; }
    public List<int>? Pids { get; init; }
    public ClearOci.Protocol.ContainerStats? Stats { get; init; }
    /// <summary>exec: the second line, once the process ended.</summary>
    public int? ExitStatus { get; init; }
    /// <summary>events: one line per container event (runc's event type, e.g. "oom").</summary>
    public string? Event { get; init; }
}

/// <summary>One JSON line each way over `<root>/<id>/sock` (exec: the request carries fds, and a second line reports the exit).</summary>
public static class SupervisorClient
{
    /// <summary>exec through the supervisor: hands it our fds 0-2, waits for the start, then the exit status.</summary>
    public static int Exec(string socketPath, SupervisorRequest request, Action onStarted)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { ClearOci.Native.UnixSocketPath.Use(socketPath, path => { socket.Connect(new UnixDomainSocketEndPoint(path)); return 0; }); }
        catch (SocketException e) { throw new ClearOciException(ErrorCode.System, $"cannot reach the container's supervisor ({socketPath}): {e.Message}"); }
        byte[] line = JsonSerializer.SerializeToUtf8Bytes(request, RuntimeJsonContext.Default.SupervisorRequest);
        ClearOci.Native.FdPassing.Send((int)socket.Handle, line.Append((byte)'\n').ToArray(), [0, 1, 2]);
        using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        Check(reader.ReadLine());
        onStarted();
        return Check(reader.ReadLine()).ExitStatus ?? throw new ClearOciException(ErrorCode.Internal, "exec ended without a status");
    }

    internal static SupervisorResponse Check(string? reply)
    {
        if (reply is null) throw new ClearOciException(ErrorCode.System, "the container's supervisor closed the connection");
        var response = JsonSerializer.Deserialize(reply, RuntimeJsonContext.Default.SupervisorResponse)!;
        if (response.Error != null)
            throw new ClearOciException(Enum.TryParse<ErrorCode>(response.Code, out var c) ? c : ErrorCode.System, response.Error);
        return response;
    }

    public static async Task<SupervisorResponse> CallAsync(string socketPath, SupervisorRequest request, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            ClearOci.Native.UnixSocketPath.Use(socketPath, path => { socket.Connect(new UnixDomainSocketEndPoint(path)); return 0; });
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            byte[] line = JsonSerializer.SerializeToUtf8Bytes(request, RuntimeJsonContext.Default.SupervisorRequest);
            ClearOci.Native.FdPassing.Send((int)socket.Handle, line.Append((byte)'\n').ToArray(), []);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string reply = await reader.ReadLineAsync(cts.Token).ConfigureAwait(false)
                ?? throw new ClearOciException(ErrorCode.System, "the container's supervisor closed the connection");
            return Check(reply);
        }
        catch (SocketException e) { throw new ClearOciException(ErrorCode.System, $"cannot reach the container's supervisor ({socketPath}): {e.Message}"); }
        catch (OperationCanceledException) { throw new ClearOciException(ErrorCode.Timeout, $"the container's supervisor did not answer within {timeout.TotalSeconds:0} s"); }
    }
}
