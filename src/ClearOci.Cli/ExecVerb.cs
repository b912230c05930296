using System.CommandLine;
using System.Text;
using ClearOci.Client;
using ClearOci.Runtime;
using ClearOci.Spec;

namespace ClearOci.Cli;

/// <summary>`exec`: a new process in the same VM and container, from --process or from the flags.</summary>
internal static class ExecVerb
{
    public static Command Build()
    {
        var process = new Option<string?>("--process", "-p") { Description = "path to a process.json" };
        var detach = new Option<bool>("--detach", "-d") { Description = "detach; the pid file gets a relay that exits with the process's status" };
        var pidFile = new Option<string?>("--pid-file") { Description = "file to write the pid to" };
        var console = new Option<string?>("--console-socket") { Description = "unix socket that receives the pty master" };
        var tty = new Option<bool>("--tty", "-t") { Description = "allocate a pseudo-TTY" };
        var env = new Option<string[]>("--env", "-e") { Description = "set an environment variable (KEY=VALUE)", AllowMultipleArgumentsPerToken = false };
        var user = new Option<string?>("--user", "-u") { Description = "USER[:GROUP] (numbers, or names from the container's /etc/passwd and /etc/group)" };
        var cwd = new Option<string?>("--cwd") { Description = "working directory" };
        var readyFd = new Option<int>("--ready-fd") { Hidden = true, DefaultValueFactory = _ => -1 };
        // The name `kill --exec-id` reaches the process by (containerd-shim-clearoci-v2 passes its exec id).
        var execId = new Option<string?>("--exec-id") { Hidden = true };
        var id = new Argument<string>("container-id");
        var args = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("exec", "run a process in a running container") { process, detach, pidFile, console, tty, env, user, cwd, readyFd, execId, id, args };
        cmd.TreatUnmatchedTokensAsErrors = false;
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            var lifecycle = LifecycleVerbs.Open(p);
            string containerId = p.GetValue(id)!;
            string json = p.GetValue(process) is { } file
                ? Encoding.UTF8.GetString(ConfigLoader.ReadFile(file))
                : FromFlags(lifecycle, containerId, p.GetValue(args) ?? [], p.GetValue(env) ?? [], p.GetValue(user), p.GetValue(cwd), p.GetValue(tty));
            if (p.GetValue(readyFd) >= 0 && p.GetValue(process) is { } own && Path.GetFileName(own).StartsWith(TempPrefix, StringComparison.Ordinal))
                File.Delete(own); // the relay's copy, written by the `exec --detach` that started it
            bool terminal = ConfigLoader.ParseProcess(Encoding.UTF8.GetBytes(json), p.GetValue(process) ?? "exec").Terminal == true;
            if (terminal && p.GetValue(console) is null) throw ClearOciException.Invalid("cannot allocate a tty without --console-socket (the process would have no terminal)");
            if (p.GetValue(detach))
            {
                string? temp = p.GetValue(process) is null ? WriteTemp(json) : null;
                try
                {
                    lifecycle.ExecDetached(containerId, p.GetValue(process) ?? temp!, p.GetValue(pidFile), Environment.ProcessPath!, App.GlobalArgs(p), p.GetValue(console), p.GetValue(execId));
                }
                catch when (temp != null)
                {
                    File.Delete(temp); // the relay never started, or failed before it took the file over
                    throw;
                }
                return Task.FromResult(0);
            }
            int ready = p.GetValue(readyFd);
            try
            {
                return Task.FromResult(lifecycle.Exec(containerId, json, () =>
                {
                    if (ready < 0) return;
                    ReadyPipe.Ready(ready);
                    ready = -1;
                }, p.GetValue(console), p.GetValue(execId)));
            }
            catch (ClearOciException e) when (ready >= 0)
            {
                ReadyPipe.Fail(ready, e);
                throw;
            }
        }));
        return cmd;
    }

    /// <summary>runc's way without --process: the container's own process as the template.</summary>
    private static string FromFlags(Lifecycle lifecycle, string id, string[] args, string[] env, string? user, string? cwd, bool tty)
    {
        if (args.Length == 0) throw ClearOciException.Invalid("exec needs a command (or --process)");
        var state = lifecycle.State(id);
        var template = ConfigLoader.Load(state.Bundle).Spec.Process ?? new Process();
        var process = template with
        {
            Terminal = tty,
            Args = [.. args],
            Env = [.. template.Env ?? [], .. env],
            Cwd = cwd ?? template.Cwd,
            User = user is null ? template.User : ParseUser(user, template.User),
        };
        return SpecJson.Serialize(process);
    }

    /// <summary>
    /// UID[:GID] in numbers is applied as runc does (the template's gid stays when none is given); a
    /// name in either part goes to the guest as the username "USER[:GROUP]", resolved there from the
    /// container's own /etc/passwd and /etc/group.
    /// </summary>
    private static User ParseUser(string text, User template)
    {
        var parts = text.Split(':');
        if (parts.Length > 2 || parts.Any(p => p.Length == 0))
            throw ClearOciException.Invalid($"--user {text}: expected USER[:GROUP]");
        if (uint.TryParse(parts[0], out uint uid) && (parts.Length == 1 || uint.TryParse(parts[1], out _)))
            return template with { Uid = uid, Gid = parts.Length > 1 ? uint.Parse(parts[1]) : template.Gid, Username = null };
        return new User { Username = text, Umask = template.Umask };
    }

    private const string TempPrefix = "clearoci-exec-";

    private static string WriteTemp(string json)
    {
        string path = Path.Combine(Path.GetTempPath(), $"{TempPrefix}{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
