using System.CommandLine;
using ClearOci.Client;
using ClearOci.Native;
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
