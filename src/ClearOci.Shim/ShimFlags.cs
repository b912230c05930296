using System.Text;
using System.Text.Json;

namespace ClearOci.Shim;

/// <summary>
/// The shim's command line as containerd writes it, Go `flag` style: single or double dash,
/// `-flag value` or `-flag=value`, and the action word (start, delete) last.
/// </summary>
public sealed record ShimFlags
{
    public string Namespace { get; init; } = "";
    public string Address { get; init; } = "";
    public string PublishBinary { get; init; } = "";
    public string Id { get; init; } = "";
    public string Bundle { get; init; } = "";
    /// <summary>Internal, from `start` to the daemon: the socket path it serves (fd 3 is bound to it).</summary>
    public string Socket { get; init; } = "";
    public bool Debug { get; init; }
    public bool Version { get; init; }
    /// <summary>start, delete, serve (internal), or empty.</summary>
    public string Action { get; init; } = "";

    private static readonly string[] ValueFlags = ["namespace", "address", "publish-binary", "id", "bundle", "socket"];
    private static readonly string[] BoolFlags = ["debug", "v"];

    public static ShimFlags Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>();
        var bools = new HashSet<string>();
        int i = 0;
        for (; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--") { i++; break; }
            if (a.Length < 2 || a[0] != '-') break;
            string name = a.TrimStart('-');
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (BoolFlags.Contains(name))
            {
                if (inline is null or "true" or "1") bools.Add(name);
                else if (inline is not ("false" or "0")) throw new ArgumentException($"invalid boolean value \"{inline}\" for -{name}");
                continue;
            }
            if (!ValueFlags.Contains(name)) throw new ArgumentException($"flag provided but not defined: -{name}");
            if (inline is null)
            {
                if (++i >= args.Count) throw new ArgumentException($"flag needs an argument: -{name}");
                inline = args[i];
            }
            values[name] = inline;
        }
        var rest = args.Skip(i).ToList();
        if (rest.Count > 1) throw new ArgumentException($"unexpected arguments: {string.Join(' ', rest)}");
        string V(string k) => values.TryGetValue(k, out var v) ? v : "";
        return new ShimFlags
        {
            Namespace = V("namespace"), Address = V("address"), PublishBinary = V("publish-binary"), Id = V("id"),
            Bundle = V("bundle"), Socket = V("socket"), Debug = bools.Contains("debug"), Version = bools.Contains("v"),
            Action = rest.Count == 1 ? rest[0] : "",
        };
    }

    /// <summary>The daemon's argv (after the program name): the same identity, the socket, and `serve`.</summary>
    public IReadOnlyList<string> DaemonArgs(string socket)
    {
        var args = new List<string> { "-namespace", Namespace, "-address", Address, "-publish-binary", PublishBinary, "-id", Id, "-socket", socket };
        if (Debug) args.Add("-debug");
        args.Add("serve");
        return args;
    }
}
