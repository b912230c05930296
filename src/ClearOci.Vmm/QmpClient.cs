using System.Text;
using System.Text.Json.Nodes;

namespace ClearOci.Vmm;

/// <summary>A small QMP client over QEMU's monitor socket: capabilities handshake, then commands in order.</summary>
public sealed class QmpClient : IDisposable
{
    private readonly Stream _stream;
    private readonly StreamReader _reader;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private bool _negotiated;

    public QmpClient(Stream stream)
    {
        _stream = stream;
        _reader = new StreamReader(stream, new UTF8Encoding(false));
    }

    /// <summary>Runs one command; returns its "return" value or throws with QEMU's error.</summary>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments = null, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_negotiated)
            {
                await ReadReplyAsync(greeting: true, ct).ConfigureAwait(false);
                await SendAsync("qmp_capabilities", null, ct).ConfigureAwait(false);
                await ReadReplyAsync(false, ct).ConfigureAwait(false);
                _negotiated = true;
            }
            await SendAsync(command, arguments, ct).ConfigureAwait(false);
            return await ReadReplyAsync(false, ct).ConfigureAwait(false);
        }
        finally { _lock.Release(); }
    }

    private async Task SendAsync(string command, JsonObject? arguments, CancellationToken ct)
    {
        var msg = new JsonObject { ["execute"] = command };
        if (arguments != null) msg["arguments"] = arguments;
        byte[] bytes = Encoding.UTF8.GetBytes(msg.ToJsonString() + "\n");
        await _stream.WriteAsync(bytes, ct).ConfigureAwait(false);
    }

    private async Task<JsonNode?> ReadReplyAsync(bool greeting, CancellationToken ct)
    {
        while (true)
        {
            string line = await _reader.ReadLineAsync(ct).ConfigureAwait(false)
                ?? throw new ClearOciException(ErrorCode.System, "QMP: QEMU closed the monitor");
            var node = JsonNode.Parse(line);
            if (node is not JsonObject o) continue;
            if (greeting && o.ContainsKey("QMP")) return o;
            if (o.ContainsKey("event")) continue; // events are not needed here
            if (o.TryGetPropertyValue("error", out var error))
                throw new ClearOciException(ErrorCode.System, $"QMP: {error?["desc"]?.GetValue<string>() ?? error?.ToJsonString()}");
            if (o.TryGetPropertyValue("return", out var ret)) return ret;
        }
    }

    public void Dispose() => _stream.Dispose();
}
