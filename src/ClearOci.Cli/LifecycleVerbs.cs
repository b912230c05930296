using System.CommandLine;
using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Runtime;
using ClearOci.Spec;

namespace ClearOci.Cli;

/// <summary>The OCI-standard verbs (create, start, state, kill, delete): parse, call Lifecycle, print.</summary>
internal static class LifecycleVerbs
{
    public static Lifecycle Open(ParseResult p) => new(new StateStore(p.GetValue(App.Root)!));

    private static Argument<string> Id() => new("container-id") { Description = "the container's id" };

    public static Command Create()
    {
        var bundle = new Option<string>("--bundle", "-b") { Description = "path to the root of the bundle directory", DefaultValueFactory = _ => "." };
        var pidFile = new Option<string?>("--pid-file") { Description = "file to write the pid that exits with the container's status" };
        var console = new Option<string?>("--console-socket") { Description = "unix socket that receives the pty master" };
        var preserve = new Option<int>("--preserve-fds") { Description = "pass N additional fds to the container" };
        var noPivot = new Option<bool>("--no-pivot") { Description = "accepted; the guest always pivots when it can" };
        var noKeyring = new Option<bool>("--no-new-keyring") { Description = "accepted" };
        var id = Id();
        var cmd = new Command("create", "create a container (its VM boots; the process waits for start)") { bundle, pidFile, console, preserve, noPivot, noKeyring, id };
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            Open(p).Create(new CreateRequest
            {
                Id = p.GetValue(id)!, Bundle = p.GetValue(bundle)!, PidFile = p.GetValue(pidFile),
                ConsoleSocket = p.GetValue(console), PreserveFds = p.GetValue(preserve),
                Self = Environment.ProcessPath!, GlobalArgs = App.GlobalArgs(p),
            });
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Start() => Simple("start", "start the created container's process", (l, id) => l.Start(id));

    public static Command State()
    {
        var id = Id();
        var cmd = new Command("state", "print the container's OCI state") { id };
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            StandardStreams.Out.WriteLine(SpecJson.Serialize(Open(p).State(p.GetValue(id)!), indented: true));
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Kill()
    {
        var all = new Option<bool>("--all", "-a") { Description = "send the signal to every process of the container" };
        var id = Id();
        var signal = new Argument<string>("signal") { Description = "number or name; default SIGTERM", DefaultValueFactory = _ => "SIGTERM" };
        var execId = new Option<string?>("--exec-id") { Hidden = true, Description = "signal the process `exec --exec-id` started instead" };
        var cmd = new Command("kill", "send a signal to the container's process") { all, execId, id, signal };
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            Open(p).Kill(p.GetValue(id)!, SignalNames.Parse(p.GetValue(signal)!), p.GetValue(execId));
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Delete()
    {
        var force = new Option<bool>("--force", "-f") { Description = "kill the container first if it is still running" };
        var id = Id();
        var cmd = new Command("delete", "delete the container and its VM") { force, id };
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            Open(p).Delete(p.GetValue(id)!, p.GetValue(force));
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Simple(string name, string description, Action<Lifecycle, string> verb)
    {
        var id = Id();
        var cmd = new Command(name, description) { id };
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            verb(Open(p), p.GetValue(id)!);
            return Task.FromResult(0);
        }));
        return cmd;
    }
}

/// <summary>runc's extras around the lifecycle: pause, resume, ps, list; and the hidden supervisor.</summary>
internal static class ExtraVerbs
{
    public static Command Pause() => LifecycleVerbs.Simple("pause", "pause the whole VM of the container", (l, id) => l.Pause(id));
    public static Command Resume() => LifecycleVerbs.Simple("resume", "resume a paused container", (l, id) => l.Resume(id));

    public static Command Ps()
    {
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var id = new Argument<string>("container-id");
        var cmd = new Command("ps", "host processes of the container") { format, id };
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            var pids = LifecycleVerbs.Open(p).Ps(p.GetValue(id)!);
            if (p.GetValue(format) == "json") StandardStreams.Out.WriteLine(Lifecycle.ToJson(pids));
            else { StandardStreams.Out.WriteLine("PID"); foreach (var pid in pids) StandardStreams.Out.WriteLine(pid); }
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command List()
    {
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "ids only" };
        var cmd = new Command("list", "list containers") { format, quiet };
        cmd.Aliases.Add("ls");
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            var list = LifecycleVerbs.Open(p).List();
            if (p.GetValue(quiet)) foreach (var e in list) StandardStreams.Out.WriteLine(e.Id);
            else if (p.GetValue(format) == "json") StandardStreams.Out.WriteLine(Lifecycle.ToJson(list));
            else
            {
                StandardStreams.Out.WriteLine($"{"ID",-24} {"PID",-8} {"STATUS",-10} {"BUNDLE",-40} CREATED");
                foreach (var e in list) StandardStreams.Out.WriteLine($"{e.Id,-24} {e.Pid,-8} {e.Status,-10} {e.Bundle,-40} {e.Created:O}");
            }
            return Task.FromResult(0);
        }));
        return cmd;
    }

    /// <summary>`supervise`: not for users; `create` starts it, detached, as the container's pid.</summary>
    public static Command Supervise()
    {
        var bundle = new Option<string>("--bundle") { Required = true };
        var readyFd = new Option<int>("--ready-fd") { Required = true };
        var console = new Option<string?>("--console-socket");
        var preserve = new Option<int>("--preserve-fds");
        var id = new Argument<string>("container-id");
        var cmd = new Command("supervise", "internal: the per-VM supervisor") { bundle, readyFd, console, preserve, id };
        cmd.Hidden = true;
        cmd.SetAction((p, ct) =>
        {
            // Debug output goes to --log only: the supervisor's stderr is the container's.
            if (p.GetValue(App.Debug) && p.GetValue(App.Log) is { } log)
                DebugLog.Sink = m => ErrorLog.Append(log, ErrorLog.Format(p.GetValue(App.LogFormat), "debug", m, DateTimeOffset.Now));
            return Supervisor.RunAsync(new StateStore(p.GetValue(App.Root)!), p.GetValue(id)!, p.GetValue(bundle)!,
                p.GetValue(readyFd), p.GetValue(console), p.GetValue(preserve));
        });
        return cmd;
    }
}

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
