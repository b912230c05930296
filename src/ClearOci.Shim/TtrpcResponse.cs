namespace ClearOci.Shim;

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
