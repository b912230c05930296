using System.Text.Json;

namespace ClearOci.Shim;

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
