using System.CommandLine;
using ClearOci.Runtime;

namespace ClearOci.Cli;

/// <summary>`run`: create and start a container in a new VM, wait for it, exit with its status.</summary>
internal static class RunVerb
{
    public static Command Build()
    {
        var bundle = new Option<string>("--bundle", "-b") { Description = "path to the root of the bundle directory", DefaultValueFactory = _ => "." };
        var detach = new Option<bool>("--detach", "-d") { Description = "detach from the container's process (not supported yet)" };
        var pidFile = new Option<string?>("--pid-file") { Description = "file to write the process id to" };
        var id = new Argument<string>("container-id");
        var cmd = new Command("run", "create and run a container") { bundle, detach, pidFile, id };
        cmd.SetAction((p, ct) => App.Execute(p, async () =>
        {
            if (p.GetValue(detach)) throw new ClearOci.Spec.ClearOciException(ClearOci.Spec.ErrorCode.Unsupported, "run --detach is not supported yet");
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
