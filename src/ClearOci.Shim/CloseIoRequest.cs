namespace ClearOci.Shim;

/// <summary>CloseIORequest: id=1, exec_id=2, stdin=3.</summary>
public sealed record CloseIoRequest(string Id, string ExecId, bool Stdin)
{
    public static CloseIoRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "";
        bool stdin = false;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: exec = r.String(); break;
                case 3: stdin = r.Bool(); break;
                default: r.Skip(); break;
            }
        }
        return new CloseIoRequest(id, exec, stdin);
    }
}
