using System.CommandLine;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Cli;

/// <summary>`events`: stats of the container's VM, once (--stats) or every --interval until it stops.</summary>
internal static class EventsVerb
{
    public static Command Build()
    {
        var stats = new Option<bool>("--stats") { Description = "print one stats event and exit" };
        var interval = new Option<string>("--interval") { Description = "time between stats events (e.g. 5s, 500ms)", DefaultValueFactory = _ => "5s" };
        var id = new Argument<string>("container-id");
        var cmd = new Command("events", "print resource usage and OOM events of the container") { stats, interval, id };
        cmd.SetAction((p, ct) => App.Execute(p, async () =>
        {
            var lifecycle = LifecycleVerbs.Open(p);
            string containerId = p.GetValue(id)!;
            var every = ParseInterval(p.GetValue(interval)!);
            if (p.GetValue(stats))
            {
                StandardStreams.Out.WriteLine(lifecycle.StatsEvent(containerId).ToJsonString());
                return 0;
            }
            // runc's stream: stats every interval, an "oom" event as it happens, until the container stops.
            var feed = await lifecycle.SubscribeEventsAsync(containerId,
                type => StandardStreams.Out.WriteLine(new System.Text.Json.Nodes.JsonObject { ["type"] = type, ["id"] = containerId }.ToJsonString()), ct);
            while (!feed.IsCompleted && !ct.IsCancellationRequested)
            {
                try { StandardStreams.Out.WriteLine(lifecycle.StatsEvent(containerId).ToJsonString()); }
                catch (ClearOciException)
                {
                    // Stats asked while the container was stopping (its VM powering off): the feed ends.
                    if (await Task.WhenAny(feed, Task.Delay(TimeSpan.FromSeconds(5), ct)) == feed) break;
                    throw;
                }
                await Task.WhenAny(Task.Delay(every, ct), feed);
            }
            await feed; // the events published before the container stopped
            return 0;
        }));
        return cmd;
    }

    private static TimeSpan ParseInterval(string text)
    {
        if (text.EndsWith("ms") && double.TryParse(text[..^2], System.Globalization.CultureInfo.InvariantCulture, out double ms) && ms > 0) return TimeSpan.FromMilliseconds(ms);
        if (text.EndsWith('s') && double.TryParse(text[..^1], System.Globalization.CultureInfo.InvariantCulture, out double s) && s > 0) return TimeSpan.FromSeconds(s);
        throw ClearOciException.Invalid($"--interval {text}: expected a duration such as 5s or 500ms");
    }
}
