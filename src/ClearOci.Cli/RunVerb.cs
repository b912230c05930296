using System.CommandLine;
using ClearOci.Client;

namespace ClearOci.Cli;

/// <summary>
/// `run`: create and start a container (its own VM), as runc's. In the foreground it waits for the
/// container, exits with its status and deletes it (unless --keep); meanwhile the container is an
/// ordinary one for every other verb. With `--detach`, create + start as the separate verbs would
/// (the supervisor keeps the caller's stdio) and return at once; a start that fails deletes it.
/// </summary>
internal static class RunVerb
{
    public static Command Build()
    {
        var bundle = new Option<string>("--bundle", "-b") { Description = "path to the root of the bundle directory", DefaultValueFactory = _ => "." };
        var detach = new Option<bool>("--detach", "-d") { Description = "detach from the container's process" };
        var pidFile = new Option<string?>("--pid-file") { Description = "file to write the process id to" };
        var console = new Option<string?>("--console-socket") { Description = "unix socket that receives the pty master" };
        var keep = new Option<bool>("--keep") { Description = "do not delete the container after it exits (foreground only)" };
        var preserve = new Option<int>("--preserve-fds") { Description = "pass N additional fds to the container" };
        var noPivot = new Option<bool>("--no-pivot") { Description = "accepted; the guest always pivots when it can" };
        var noKeyring = new Option<bool>("--no-new-keyring") { Description = "accepted" };
        var noSubreaper = new Option<bool>("--no-subreaper") { Description = "accepted; the container's supervisor is the process waited for" };
        var id = new Argument<string>("container-id");
        var cmd = new Command("run", "create and run a container") { bundle, detach, pidFile, console, keep, preserve, noPivot, noKeyring, noSubreaper, id };
        cmd.SetAction((p, ct) => App.Execute(p, async () =>
        {
            var lifecycle = LifecycleVerbs.Open(p);
            string containerId = p.GetValue(id)!;
            var create = new CreateRequest
            {
                Id = containerId, Bundle = p.GetValue(bundle)!, PidFile = p.GetValue(pidFile), ConsoleSocket = p.GetValue(console),
                PreserveFds = p.GetValue(preserve), Self = Environment.ProcessPath!, GlobalArgs = App.GlobalArgs(p),
            };
            if (!p.GetValue(detach)) return await ForegroundRun.RunAsync(lifecycle, create, p.GetValue(keep));
            if (p.GetValue(keep)) throw ClearOciException.Invalid("--keep cannot be used with --detach");
            lifecycle.Create(create);
            try { lifecycle.Start(containerId); }
            catch (ClearOciException)
            {
                lifecycle.Delete(containerId, force: true);
                throw;
            }
            return 0;
        }));
        return cmd;
    }
}
