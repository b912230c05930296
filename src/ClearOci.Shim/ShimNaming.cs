using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ClearOci.Shim;

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
