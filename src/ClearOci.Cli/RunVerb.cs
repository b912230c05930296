using System.CommandLine;
using ClearOci.Runtime;

namespace ClearOci.Cli;

/// <summary>
/// `run`: create and start a container in a new VM, wait for it, exit with its status. With
/// `--detach`, create + start as separate verbs would (the supervisor keeps the caller's stdio)
/// and return at once; a start that fails deletes the container.
/// </summary>
internal static class RunVerb
{
    public static Command Build()
    {
        var bundle = new Option<string>("--bundle", "-b") { Description = "path to the root of the bundle directory", DefaultValueFactory = _ => "." };
        var detach = new Option<bool>("--detach", "-d") { Description = "detach from the container's process" };
        var pidFile = new Option<string?>("--pid-file") { Description = "file to write the process id to (with --detach)" };
        var console = new Option<string?>("--console-socket") { Description = "unix socket that receives the pty master (with --detach)" };
        var id = new Argument<string>("container-id");
        var cmd = new Command("run", "create and run a container") { bundle, detach, pidFile, console, id };
        cmd.SetAction((p, ct) => App.Execute(p, async () =>
        {
            if (p.GetValue(detach))
            {
                var lifecycle = LifecycleVerbs.Open(p);
                string containerId = p.GetValue(id)!;
                lifecycle.Create(new CreateRequest
                {
                    Id = containerId, Bundle = p.GetValue(bundle)!, PidFile = p.GetValue(pidFile), ConsoleSocket = p.GetValue(console),
                    Self = Environment.ProcessPath!, GlobalArgs = App.GlobalArgs(p),
                });
                try { lifecycle.Start(containerId); }
                catch (ClearOciException)
                {
                    lifecycle.Delete(containerId, force: true);
                    throw;
                }
                return 0;
            }
            return await ForegroundRun.RunAsync(new RunRequest
            {
                Root = p.GetValue(App.Root)!,
                Id = p.GetValue(id)!,
                Bundle = p.GetValue(bundle)!,
                Stdio = new Stdio(Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.OpenStandardError()),
            }, ct);
        }));
        return cmd;
    }
}
