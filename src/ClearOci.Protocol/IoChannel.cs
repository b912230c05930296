using System.Buffers.Binary;

namespace ClearOci.Protocol;

/// <summary>
/// Multiplexed stdio: each frame is a 9-byte header (stream id u32 BE, flags u8: 1 = end of
/// stream, length u32 BE) and the data. Kept apart from the control channel so a slow reader of
/// output never delays a signal or an exit status.
/// </summary>
public sealed class IoChannel : IAsyncDisposable
{
    public const int HeaderBytes = 9;
    public const int MaxChunk = 64 * 1024;
    private readonly Stream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[HeaderBytes];

    public IoChannel(Stream stream) => _stream = stream;

    public static void WriteHeader(Span<byte> header, uint stream, bool eof, int length)
    {
        BinaryPrimitives.WriteUInt32BigEndian(header, stream);
        header[4] = eof ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32BigEndian(header[5..], length);
    }

    public async Task SendAsync(uint stream, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        while (!data.IsEmpty)
        {
            var chunk = data.Length > MaxChunk ? data[..MaxChunk] : data;
            await SendFrameAsync(stream, false, chunk, ct).ConfigureAwait(false);
            data = data[chunk.Length..];
        }
    }

    public Task SendEofAsync(uint stream, CancellationToken ct = default) => SendFrameAsync(stream, true, ReadOnlyMemory<byte>.Empty, ct);

    private async Task SendFrameAsync(uint stream, bool eof, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        byte[] frame = new byte[HeaderBytes + data.Length];
        WriteHeader(frame, stream, eof, data.Length);
        data.CopyTo(frame.AsMemory(HeaderBytes));
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(frame, ct).ConfigureAwait(false);
            await _stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>The next frame, or null at a clean end of the channel.</summary>
    public async Task<IoFrame?> ReceiveAsync(CancellationToken ct = default)
    {
        if (!await FrameIo.ReadExactlyOrEofAsync(_stream, _header, ct).ConfigureAwait(false)) return null;
        uint stream = BinaryPrimitives.ReadUInt32BigEndian(_header);
        bool eof = (_header[4] & 1) != 0;
        int length = BinaryPrimitives.ReadInt32BigEndian(_header.AsSpan(5));
        if (length < 0 || length > MaxChunk)
            throw new ClearOciException(ErrorCode.Agent, $"protocol: bad io frame length {length}");
        byte[] data = new byte[length];
        if (length > 0 && !await FrameIo.ReadExactlyOrEofAsync(_stream, data, ct).ConfigureAwait(false))
            throw new ClearOciException(ErrorCode.Agent, "protocol: io channel closed inside a frame");
        return new IoFrame(stream, eof, data);
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
