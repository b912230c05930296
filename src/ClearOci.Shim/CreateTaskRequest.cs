namespace ClearOci.Shim;

/// <summary>The Task requests, decoded. Field numbers are containerd.task.v2's (shim-v2.md §3.2).</summary>
public sealed record CreateTaskRequest(string Id, string Bundle, IReadOnlyList<MountSpec> Rootfs, bool Terminal,
    string Stdin, string Stdout, string Stderr, string Checkpoint, AnyMessage? Options)
{
    public static CreateTaskRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", bundle = "", stdin = "", stdout = "", stderr = "", checkpoint = "";
        bool terminal = false;
        var rootfs = new List<MountSpec>();
        AnyMessage? options = null;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: bundle = r.String(); break;
                case 3: rootfs.Add(MountSpec.Decode(r.Bytes())); break;
                case 4: terminal = r.Bool(); break;
                case 5: stdin = r.String(); break;
                case 6: stdout = r.String(); break;
                case 7: stderr = r.String(); break;
                case 8: checkpoint = r.String(); break;
                case 10: options = AnyMessage.Decode(r.Bytes()); break;
                default: r.Skip(); break;
            }
        }
        return new CreateTaskRequest(id, bundle, rootfs, terminal, stdin, stdout, stderr, checkpoint, options);
    }

    public byte[] Encode()
    {
        var w = new ProtoWriter().String(1, Id).String(2, Bundle);
        foreach (var m in Rootfs) w.Message(3, m.Encode());
        w.Bool(4, Terminal).String(5, Stdin).String(6, Stdout).String(7, Stderr).String(8, Checkpoint);
        if (Options != null) w.Message(10, Options.Encode());
        return w.ToArray();
    }
}
