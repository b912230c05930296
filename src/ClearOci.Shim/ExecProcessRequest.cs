namespace ClearOci.Shim;

/// <summary>ExecProcessRequest: id=1, exec_id=2, terminal=3, stdin=4, stdout=5, stderr=6, spec=7 (Any: OCI Process JSON).</summary>
public sealed record ExecProcessRequest(string Id, string ExecId, bool Terminal, string Stdin, string Stdout, string Stderr, AnyMessage? Spec)
{
    public static ExecProcessRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "", stdin = "", stdout = "", stderr = "";
        bool terminal = false;
        AnyMessage? spec = null;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: exec = r.String(); break;
                case 3: terminal = r.Bool(); break;
                case 4: stdin = r.String(); break;
                case 5: stdout = r.String(); break;
                case 6: stderr = r.String(); break;
                case 7: spec = AnyMessage.Decode(r.Bytes()); break;
                default: r.Skip(); break;
            }
        }
        return new ExecProcessRequest(id, exec, terminal, stdin, stdout, stderr, spec);
    }

    public byte[] Encode()
    {
        var w = new ProtoWriter().String(1, Id).String(2, ExecId).Bool(3, Terminal).String(4, Stdin).String(5, Stdout).String(6, Stderr);
        if (Spec != null) w.Message(7, Spec.Encode());
        return w.ToArray();
    }
}
