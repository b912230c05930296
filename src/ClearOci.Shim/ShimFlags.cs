using System.Security.Cryptography;
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

/// <summary>Pure naming rules: grouping, socket paths, where clearoci keeps its state.</summary>
public static class ShimNaming
{
    public const string SandboxIdAnnotation = "io.kubernetes.cri.sandbox-id";
    public const string GroupAnnotation = "io.containerd.runc.v2.group";
    /// <summary>containerd's convention; it does not follow containerd's own --state.</summary>
    public const string SocketDir = "/run/containerd/s";

    /// <summary>The pod sandbox id (CRI), else runc's group annotation, else the task id.</summary>
    public static string GroupKey(IReadOnlyDictionary<string, string> annotations, string id) =>
        annotations.TryGetValue(SandboxIdAnnotation, out var s) && s.Length > 0 ? s
        : annotations.TryGetValue(GroupAnnotation, out var g) && g.Length > 0 ? g
        : id;

    /// <summary>/run/containerd/s/ + hex sha256("address/namespace/group"): deterministic per group and per containerd.</summary>
    public static string SocketPath(string address, string ns, string group) =>
        $"{SocketDir}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{address}/{ns}/{group}")))}";

    public static string SocketAddress(string socketPath) => "unix://" + socketPath;

    /// <summary>
    /// clearoci's --root for a task: beside containerd's task directories when the bundle is
    /// `STATE/io.containerd.runtime.v2.task/NS/ID` (as runc's shim uses STATE/runc/NS), so two
    /// containerd instances never share one; else /run/clearoci/containerd/NS.
    /// </summary>
    public static string ClearOciRoot(string bundle, string ns)
    {
        string? nsDir = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(bundle));
        string? tasks = nsDir is null ? null : Path.GetDirectoryName(nsDir);
        if (tasks != null && Path.GetFileName(tasks) == "io.containerd.runtime.v2.task" && Path.GetFileName(nsDir) == ns
            && Path.GetDirectoryName(tasks) is { } state)
            return Path.Combine(state, "clearoci", ns);
        return Path.Combine("/run/clearoci/containerd", ns);
    }

    /// <summary>
    /// The global flags of the clearoci processes Lifecycle spawns for a task (the supervisor, the
    /// exec relays), as containerd-shim-runc-v2 runs runc: --root, --log in JSON, --debug. Pure.
    /// </summary>
    public static IReadOnlyList<string> ClearOciGlobalArgs(string root, string logFile, bool debug) => debug
        ? ["--root", root, "--log", logFile, "--log-format", "json", "--debug"]
        : ["--root", root, "--log", logFile, "--log-format", "json"];

    /// <summary>$CLEAROCI_BIN, else the clearoci next to this (resolved) executable.</summary>
    public static string ClearOciExecutable()
    {
        if (Environment.GetEnvironmentVariable("CLEAROCI_BIN") is { Length: > 0 } env) return env;
        string dir = Path.GetDirectoryName(Environment.ProcessPath) ?? "/usr/local/bin";
        return Path.Combine(dir, "clearoci");
    }

    /// <summary>config.json's annotations (empty when there are none).</summary>
    public static Dictionary<string, string> Annotations(string configJson)
    {
        var result = new Dictionary<string, string>();
        using var doc = JsonDocument.Parse(configJson);
        if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
            foreach (var p in a.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String) result[p.Name] = p.Value.GetString()!;
        return result;
    }
}
