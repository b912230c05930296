using System.Text;

namespace ClearOci.Shim;

/// <summary>google.protobuf.Any: a type name (bare, no type.googleapis.com/ prefix for containerd) and bytes.</summary>
public sealed record AnyMessage(string TypeUrl, byte[] Value)
{
    public byte[] Encode() => new ProtoWriter().String(1, TypeUrl).Bytes(2, Value).ToArray();

    public static AnyMessage Decode(ReadOnlySpan<byte> data)
    {
        string url = "";
        byte[] value = [];
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1) url = r.String();
            else if (f == 2) value = r.Bytes().ToArray();
            else r.Skip();
        }
        return new AnyMessage(url, value);
    }
}
