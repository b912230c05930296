using System.CommandLine;
using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Runtime;

namespace ClearOci.Cli;

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
