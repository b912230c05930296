namespace ClearOci.Shim;

/// <summary>ShutdownRequest: id=1, now=2.</summary>
public sealed record ShutdownRequest(string Id, bool Now)
{
    public static ShutdownRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "";
        bool now = false;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1) id = r.String();
            else if (f == 2) now = r.Bool();
            else r.Skip();
        }
        return new ShutdownRequest(id, now);
    }
}
