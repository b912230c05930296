namespace ClearOci.Shim;

/// <summary>containerd.types.Mount: type=1, source=2, target=3, options=4 (repeated).</summary>
public sealed record MountSpec(string Type, string Source, string Target, IReadOnlyList<string> Options)
{
    public byte[] Encode()
    {
        var w = new ProtoWriter().String(1, Type).String(2, Source).String(3, Target);
        foreach (var o in Options) w.Bytes(4, System.Text.Encoding.UTF8.GetBytes(o));
        return w.ToArray();
    }

    public static MountSpec Decode(ReadOnlySpan<byte> data)
    {
        string type = "", source = "", target = "";
        var options = new List<string>();
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: type = r.String(); break;
                case 2: source = r.String(); break;
                case 3: target = r.String(); break;
                case 4: options.Add(r.String()); break;
                default: r.Skip(); break;
            }
        }
        return new MountSpec(type, source, target, options);
    }
}
