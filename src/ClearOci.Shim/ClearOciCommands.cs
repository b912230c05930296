using System.Text.Json;

namespace ClearOci.Shim;

/// <summary>
/// argv for the two verbs the shim still runs as the clearoci CLI, `create` and `exec --detach`:
/// they start the container's and the exec's host-side stand-ins with the calling process's fds
/// 0-2 as their stdio, and only a child of the shim can have the container's streams there
/// (the shim's own fds 0-2 are shared by all its threads). The global flags (--root, --log in
/// JSON) come first, then the verb, as containerd-shim-runc-v2 runs runc. Pure: no I/O.
/// </summary>
public sealed record ClearOciCommands(string Root, string LogFile, bool Debug = false)
{
    private List<string> Global()
    {
        var args = new List<string> { "clearoci", "--root", Root, "--log", LogFile, "--log-format", "json" };
        if (Debug) args.Add("--debug");
        return args;
    }

    private IReadOnlyList<string> Verb(params string[] rest) => [.. Global(), .. rest];

    public IReadOnlyList<string> Create(string bundle, string pidFile, string id, string? consoleSocket = null) => consoleSocket is null
        ? Verb("create", "--bundle", bundle, "--pid-file", pidFile, id)
        : Verb("create", "--bundle", bundle, "--pid-file", pidFile, "--console-socket", consoleSocket, id);
    /// <summary><paramref name="execId"/> is the name the in-process Kill reaches the process by.</summary>
    public IReadOnlyList<string> Exec(string id, string execId, string processFile, string pidFile, string? consoleSocket = null) => consoleSocket is null
        ? Verb("exec", "--detach", "--exec-id", execId, "--process", processFile, "--pid-file", pidFile, id)
        : Verb("exec", "--detach", "--exec-id", execId, "--process", processFile, "--pid-file", pidFile, "--console-socket", consoleSocket, id);

    /// <summary>The last error runc-style JSON log lines hold ({"level":"error","msg":...}), or null.</summary>
    public static string? LastError(string logText)
    {
        string? last = null;
        foreach (var line in logText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("level", out var level) && level.GetString() == "error"
                    && root.TryGetProperty("msg", out var msg))
                    last = msg.GetString();
            }
            catch (JsonException) { /* not a JSON line */ }
        }
        return last;
    }
}

/// <summary>clearoci's stats event (Lifecycle.StatsEvent, `events --stats`) to io.containerd.cgroups.v1.Metrics, the type CRI accepts.</summary>
public static class MetricsConverter
{
    public const string V1MetricsType = "io.containerd.cgroups.v1.Metrics";

    /// <summary>
    /// Metrics{pids=2 {current=1}, cpu=3 {usage=1 {total=1, kernel=2, user=3}},
    /// memory=4 {usage=33 {limit=1, usage=2}}}.
    /// </summary>
    public static AnyMessage FromStatsEvent(System.Text.Json.Nodes.JsonObject statsEvent) => FromStatsJson(statsEvent.ToJsonString());

    public static AnyMessage FromStatsJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var data = doc.RootElement.GetProperty("data");
        ulong Get(params string[] path)
        {
            var e = data;
            foreach (var p in path)
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(p, out e)) return 0;
            return e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out ulong v) ? v : 0;
        }
        var w = new ProtoWriter()
            .Message(2, new ProtoWriter().Uint(1, Get("pids", "current")))
            .Message(3, new ProtoWriter().Message(1, new ProtoWriter().Uint(1, Get("cpu", "usage", "total"))
                .Uint(2, Get("cpu", "usage", "kernel")).Uint(3, Get("cpu", "usage", "user"))))
            .Message(4, new ProtoWriter().Message(33, new ProtoWriter().Uint(1, Get("memory", "usage", "limit")).Uint(2, Get("memory", "usage", "usage"))));
        return new AnyMessage(V1MetricsType, w.ToArray());
    }
}
