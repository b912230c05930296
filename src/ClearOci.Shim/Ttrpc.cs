namespace ClearOci.Shim;

/// <summary>gRPC status codes as ttrpc carries them (google.rpc.Code).</summary>
public enum RpcCode
{
    Ok = 0, Cancelled = 1, Unknown = 2, InvalidArgument = 3, DeadlineExceeded = 4, NotFound = 5, AlreadyExists = 6,
    PermissionDenied = 7, ResourceExhausted = 8, FailedPrecondition = 9, Aborted = 10, OutOfRange = 11,
    Unimplemented = 12, Internal = 13, Unavailable = 14, DataLoss = 15, Unauthenticated = 16,
}

/// <summary>An RPC failure with the code the peer sees. Messages follow runc's "detail: class" style.</summary>
public sealed class RpcException(RpcCode code, string message) : Exception(message)
{
    public RpcCode Code { get; } = code;

    public static RpcException NotFound(string what) => new(RpcCode.NotFound, $"{what}: not found");
}

public enum FrameType : byte { Request = 1, Response = 2, Data = 3 }

/// <summary>One ttrpc frame: 10-byte header (length u32 BE, stream id u32 BE, type, flags) + data.</summary>
public readonly record struct Frame(uint StreamId, FrameType Type, byte Flags, byte[] Data);

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

/// <summary>ttrpc.Request: service=1, method=2, payload=3, timeout_nano=4, metadata=5 {key=1, value=2}.</summary>
public sealed record TtrpcRequest(string Service, string Method, byte[] Payload, long TimeoutNano = 0,
    IReadOnlyList<KeyValuePair<string, string>>? Metadata = null)
{
    public byte[] Encode()
    {
        var w = new ProtoWriter().String(1, Service).String(2, Method).Bytes(3, Payload).Int64(4, TimeoutNano);
        foreach (var (k, v) in Metadata ?? []) w.Message(5, new ProtoWriter().String(1, k).String(2, v));
        return w.ToArray();
    }

    public static TtrpcRequest Decode(ReadOnlySpan<byte> data)
    {
        string service = "", method = "";
        byte[] payload = [];
        long timeout = 0;
        var metadata = new List<KeyValuePair<string, string>>();
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: service = r.String(); break;
                case 2: method = r.String(); break;
                case 3: payload = r.Bytes().ToArray(); break;
                case 4: timeout = r.Int64(); break;
                case 5:
                    string key = "", value = "";
                    var kv = new ProtoReader(r.Bytes());
                    while (kv.Next(out int g))
                    {
                        if (g == 1) key = kv.String();
                        else if (g == 2) value = kv.String();
                        else kv.Skip();
                    }
                    metadata.Add(new(key, value));
                    break;
                default: r.Skip(); break;
            }
        }
        return new TtrpcRequest(service, method, payload, timeout, metadata);
    }
}

/// <summary>ttrpc.Response: status=1 (google.rpc.Status{code=1, message=2}; absent on success), payload=2.</summary>
public sealed record TtrpcResponse(RpcCode Code, string Message, byte[] Payload)
{
    public static TtrpcResponse Ok(byte[] payload) => new(RpcCode.Ok, "", payload);

    public static TtrpcResponse Error(RpcCode code, string message) => new(code, message, []);

    public byte[] Encode()
    {
        var w = new ProtoWriter();
        if (Code != RpcCode.Ok) w.Message(1, new ProtoWriter().Int32(1, (int)Code).String(2, Message));
        return w.Bytes(2, Payload).ToArray();
    }

    public static TtrpcResponse Decode(ReadOnlySpan<byte> data)
    {
        var code = RpcCode.Ok;
        string message = "";
        byte[] payload = [];
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1)
            {
                var s = new ProtoReader(r.Bytes());
                while (s.Next(out int g))
                {
                    if (g == 1) code = (RpcCode)s.Int32();
                    else if (g == 2) message = s.String();
                    else s.Skip();
                }
            }
            else if (f == 2) payload = r.Bytes().ToArray();
            else r.Skip();
        }
        return new TtrpcResponse(code, message, payload);
    }
}
