namespace ClearOci.Shim;

/// <summary>ResizePtyRequest: id=1, exec_id=2, width=3, height=4.</summary>
public sealed record ResizePtyRequest(string Id, string ExecId, uint Width, uint Height)
{
    public static ResizePtyRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "";
        uint width = 0, height = 0;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: exec = r.String(); break;
                case 3: width = r.Uint32(); break;
                case 4: height = r.Uint32(); break;
                default: r.Skip(); break;
            }
        }
        return new ResizePtyRequest(id, exec, width, height);
    }
}
