using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ClearOci.Shim;

namespace ClearOci.ShimTests;

/// <summary>
/// A small CRI v1 client (gRPC over HTTP/2 cleartext on containerd's unix socket) with
/// hand-encoded protobuf: the calls kubelet makes for one pod (no crictl in Debian 12).
/// </summary>
public sealed class CriClient : IDisposable
{
    private readonly HttpClient _http;

    public CriClient(string socket)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(4) };
    }

    /// <summary>One unary call: 5-byte gRPC prefix + message; grpc-status from the trailers.</summary>
    public async Task<byte[]> CallAsync(string method, byte[] message, string service = "runtime.v1.RuntimeService")
    {
        var body = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), (uint)message.Length);
        message.CopyTo(body, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://localhost/{service}/{method}")
        {
            Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await _http.SendAsync(request);
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        string? status = Header(response, "grpc-status");
        if (status != "0")
            throw new InvalidOperationException($"{method}: grpc-status {status ?? "(none)"} {Uri.UnescapeDataString(Header(response, "grpc-message") ?? "")} (HTTP {(int)response.StatusCode})");
        if (bytes.Length < 5) return [];
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1));
        return bytes.AsSpan(5, length).ToArray();
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.TrailingHeaders.TryGetValues(name, out var t) ? t.First() : r.Headers.TryGetValues(name, out var h) ? h.First() : null;

    public void Dispose() => _http.Dispose();

    /// <summary>PodSandboxConfig with host networking (no CNI here): metadata=1, hostname=2, log_directory=3, linux=8.</summary>
    public static byte[] PodConfig(string name, string uid, string logDir) => new ProtoWriter()
        .Message(1, new ProtoWriter().String(1, name).String(2, uid).String(3, "default"))
        .String(2, name)
        .String(3, logDir)
        // linux{security_context(2){namespace_options(1){network(1)=NODE(2)}}}
        .Message(8, new ProtoWriter().Message(2, new ProtoWriter().Message(1, new ProtoWriter().Uint(1, 2))))
        .ToArray();

    public async Task<string> RunPodSandboxAsync(byte[] podConfig, string handler) =>
        FirstString(await CallAsync("RunPodSandbox", new ProtoWriter().Message(1, podConfig).String(2, handler).ToArray()));

    public async Task<string> CreateContainerAsync(string sandboxId, byte[] podConfig, string name, string image, string[] command, string logPath)
    {
        var config = new ProtoWriter().Message(1, new ProtoWriter().String(1, name)).Message(2, new ProtoWriter().String(1, image));
        foreach (var c in command) config.Bytes(3, System.Text.Encoding.UTF8.GetBytes(c));
        config.String(11, logPath);
        return FirstString(await CallAsync("CreateContainer", new ProtoWriter().String(1, sandboxId).Message(2, config).Message(3, podConfig).ToArray()));
    }

    public Task StartContainerAsync(string id) => CallAsync("StartContainer", new ProtoWriter().String(1, id).ToArray());
    public Task StopContainerAsync(string id, long timeout) => CallAsync("StopContainer", new ProtoWriter().String(1, id).Int64(2, timeout).ToArray());
    public Task RemoveContainerAsync(string id) => CallAsync("RemoveContainer", new ProtoWriter().String(1, id).ToArray());
    public Task StopPodSandboxAsync(string id) => CallAsync("StopPodSandbox", new ProtoWriter().String(1, id).ToArray());
    public Task RemovePodSandboxAsync(string id) => CallAsync("RemovePodSandbox", new ProtoWriter().String(1, id).ToArray());
    public Task<byte[]> ContainerStatsAsync(string id) => CallAsync("ContainerStats", new ProtoWriter().String(1, id).ToArray());

    /// <summary>ContainerStatus → status(1).state(3): CREATED=0, RUNNING=1, EXITED=2, UNKNOWN=3; and exit_code(7).</summary>
    public async Task<(int State, int ExitCode)> ContainerStateAsync(string id)
    {
        byte[] response = await CallAsync("ContainerStatus", new ProtoWriter().String(1, id).ToArray());
        int state = 0, exit = 0;
        var r = new ProtoReader(response);
        while (r.Next(out int f))
        {
            if (f != 1) { r.Skip(); continue; }
            var s = new ProtoReader(r.Bytes());
            while (s.Next(out int g))
            {
                if (g == 3) state = s.Int32();
                else if (g == 7) exit = s.Int32();
                else s.Skip();
            }
        }
        return (state, exit);
    }

    /// <summary>ExecSync{container_id=1, cmd=2, timeout=3} → {stdout=1, stderr=2, exit_code=3}.</summary>
    public async Task<(string Stdout, int ExitCode)> ExecSyncAsync(string id, string[] cmd, long timeout)
    {
        var w = new ProtoWriter().String(1, id);
        foreach (var c in cmd) w.Bytes(2, System.Text.Encoding.UTF8.GetBytes(c));
        byte[] response = await CallAsync("ExecSync", w.Int64(3, timeout).ToArray());
        string stdout = "";
        int exit = 0;
        var r = new ProtoReader(response);
        while (r.Next(out int f))
        {
            if (f == 1) stdout = r.String();
            else if (f == 3) exit = r.Int32();
            else r.Skip();
        }
        return (stdout, exit);
    }

    private static string FirstString(byte[] response)
    {
        var r = new ProtoReader(response);
        while (r.Next(out int f))
        {
            if (f == 1) return r.String();
            r.Skip();
        }
        throw new InvalidOperationException("the response has no id");
    }
}
