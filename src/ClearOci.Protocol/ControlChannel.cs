using System.Buffers.Binary;
using System.Text.Json;

namespace ClearOci.Protocol;

/// <summary>
/// Length-prefixed JSON messages over any byte stream: a 4-byte big-endian length, then UTF-8
/// JSON. Writes are serialised under a lock; one reader at a time.
/// </summary>
public sealed class ControlChannel : IAsyncDisposable
{
    public const int MaxMessageBytes = 16 << 20;
    private readonly Stream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[4];

    public ControlChannel(Stream stream) => _stream = stream;

    public static byte[] Encode(Message message)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(message, ProtocolJsonContext.Default.Message);
        byte[] frame = new byte[4 + json.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, json.Length);
        json.CopyTo(frame, 4);
        return frame;
    }

    public static Message Decode(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.Message)
        ?? throw new ClearOciException(ErrorCode.Agent, "protocol: null message");

    public async Task SendAsync(Message message, CancellationToken ct = default)
    {
        byte[] frame = Encode(message);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(frame, ct).ConfigureAwait(false);
            await _stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>The next message, or null at a clean end of stream.</summary>
    public async Task<Message?> ReceiveAsync(CancellationToken ct = default)
    {
        if (!await FrameIo.ReadExactlyOrEofAsync(_stream, _header, ct).ConfigureAwait(false)) return null;
        int length = BinaryPrimitives.ReadInt32BigEndian(_header);
        if (length <= 0 || length > MaxMessageBytes)
            throw new ClearOciException(ErrorCode.Agent, $"protocol: bad control frame length {length}");
        byte[] body = new byte[length];
        if (!await FrameIo.ReadExactlyOrEofAsync(_stream, body, ct).ConfigureAwait(false))
            throw new ClearOciException(ErrorCode.Agent, "protocol: control channel closed inside a frame");
        try { return Decode(body); }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new ClearOciException(ErrorCode.Agent, $"protocol: bad control message: {e.Message}");
        }
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
