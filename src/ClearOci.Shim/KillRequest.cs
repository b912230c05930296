namespace ClearOci.Shim;

/// <summary>KillRequest: id=1, exec_id=2, signal=3, all=4.</summary>
public sealed record KillRequest(string Id, string ExecId, uint Signal, bool All)
{
    public static KillRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "";
        uint signal = 0;
        bool all = false;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: exec = r.String(); break;
                case 3: signal = r.Uint32(); break;
                case 4: all = r.Bool(); break;
                default: r.Skip(); break;
            }
        }
        return new KillRequest(id, exec, signal, all);
    }

    public byte[] Encode() => new ProtoWriter().String(1, Id).String(2, ExecId).Uint(3, Signal).Bool(4, All).ToArray();
}
