namespace ClearOci.Shim;

/// <summary>Requests that name a process: id=1, exec_id=2 (State, Start, Delete, Wait), plus the Kill/CloseIO/Shutdown extras.</summary>
public sealed record ProcessRequest(string Id, string ExecId)
{
    public static ProcessRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "";
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1) id = r.String();
            else if (f == 2) exec = r.String();
            else r.Skip();
        }
        return new ProcessRequest(id, exec);
    }

    public byte[] Encode() => new ProtoWriter().String(1, Id).String(2, ExecId).ToArray();
}
