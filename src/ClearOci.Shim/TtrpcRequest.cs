namespace ClearOci.Shim;

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
