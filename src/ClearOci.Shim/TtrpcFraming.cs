namespace ClearOci.Shim;

/// <summary>ttrpc framing over any stream. Reads loop until the full header and body are in.</summary>
public static class TtrpcFraming
{
    public const int HeaderSize = 10;
    public const int MaxData = 4 << 20;

    public static byte[] Header(int length, uint streamId, FrameType type, byte flags = 0)
    {
        var h = new byte[HeaderSize];
        BigEndian.U32(h, (uint)length);
        BigEndian.U32(h.AsSpan(4), streamId);
        h[8] = (byte)type;
        h[9] = flags;
        return h;
    }

    public static byte[] Encode(Frame frame)
    {
        var bytes = new byte[HeaderSize + frame.Data.Length];
        Header(frame.Data.Length, frame.StreamId, frame.Type, frame.Flags).CopyTo(bytes, 0);
        frame.Data.CopyTo(bytes, HeaderSize);
        return bytes;
    }

    /// <summary>
    /// The next frame, or null at a clean end of stream. A frame over 4 MiB is read and discarded
    /// and comes back with <paramref name="oversize"/> set and no data (the server answers status 8).
    /// </summary>
    public static async Task<(Frame Frame, bool Oversize)?> ReadAsync(Stream stream, CancellationToken ct = default)
    {
        var header = new byte[HeaderSize];
        if (!await FillAsync(stream, header, ct).ConfigureAwait(false)) return null;
        uint length = BigEndian.U32(header);
        uint sid = BigEndian.U32(header.AsSpan(4));
        var type = (FrameType)header[8];
        if (length > MaxData)
        {
            var sink = new byte[64 * 1024];
            long left = length;
            while (left > 0)
            {
                int n = await stream.ReadAsync(sink.AsMemory(0, (int)Math.Min(left, sink.Length)), ct).ConfigureAwait(false);
                if (n == 0) throw new EndOfStreamException("connection closed inside a frame");
                left -= n;
            }
            return (new Frame(sid, type, header[9], []), true);
        }
        var data = new byte[length];
        if (length > 0 && !await FillAsync(stream, data, ct).ConfigureAwait(false)) throw new EndOfStreamException("connection closed inside a frame");
        return (new Frame(sid, type, header[9], data), false);
    }

    /// <summary>Fills the buffer; false if the stream ended before the first byte.</summary>
    private static async Task<bool> FillAsync(Stream stream, byte[] buffer, CancellationToken ct)
    {
        int off = 0;
        while (off < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(off), ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (off == 0) return false;
                throw new EndOfStreamException("connection closed inside a frame header");
            }
            off += n;
        }
        return true;
    }
}
