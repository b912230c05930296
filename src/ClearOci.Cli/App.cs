using System.CommandLine;
using ClearOci.Native;

namespace ClearOci.Cli;

/// <summary>runc's command line: global flags, one small class per verb, one place that reports errors.</summary>
public static class App
{
    public const string Version = "0.1.0";
    public const string SpecVersion = "1.2.0";

    public static readonly Option<string> Root = new("--root") { Description = "root directory for storage of container state", DefaultValueFactory = _ => "/run/clearoci", Recursive = true };
    public static readonly Option<string?> Log = new("--log") { Description = "log file for errors (runc's format)", Recursive = true };
    public static readonly Option<string> LogFormat = new("--log-format") { Description = "text or json", DefaultValueFactory = _ => "text", Recursive = true };
    public static readonly Option<bool> Debug = new("--debug") { Description = "enable debug output", Recursive = true };
    public static readonly Option<bool> SystemdCgroup = new("--systemd-cgroup") { Description = "accepted for runc compatibility; cgroupfs is used", Recursive = true };

    public static async Task<int> MainAsync(string[] args)
    {
        if (args.Length > 0 && args.TakeWhile(a => a.StartsWith('-')).Any(a => a is "--version" or "-v"))
        {
            StandardStreams.Out.Write(VersionText());
            return 0;
        }
        // Channel reads over vsock block a pool thread each; don't let the pool start at 2.
        ThreadPool.SetMinThreads(16, 16);
        var root = new RootCommand("clearoci: an OCI runtime that runs every container in its own virtual machine");
        foreach (var o in new Option[] { Root, Log, LogFormat, Debug, SystemdCgroup }) root.Options.Add(o);
        root.Options.Add(new Option<bool>("-v") { Description = "print the version" });
        foreach (var verb in new[]
        {
            LifecycleVerbs.Create(), LifecycleVerbs.Start(), LifecycleVerbs.State(), LifecycleVerbs.Kill(), LifecycleVerbs.Delete(),
            RunVerb.Build(), ExecVerb.Build(), EventsVerb.Build(), UpdateVerb.Build(), ExtraVerbs.Pause(), ExtraVerbs.Resume(), ExtraVerbs.Ps(), ExtraVerbs.List(),
            SpecVerbs.Spec(), SpecVerbs.Features(), CheckVerb.Build(), ExtraVerbs.Supervise(),
        })
            root.Subcommands.Add(verb);
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        // `clearoci foo -h`: help would hide the unknown command and exit 0; runc refuses it.
        if (parse.CommandResult.Command == root && parse.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-')) is { } unknown)
        {
            ErrorLog.Report(null, null, $"unknown command \"{unknown}\" (clearoci --help lists them)");
            return 1;
        }
        // Help and parse errors through our own fds too: System.Console would write to the terminal first (StandardStreams).
        return await parse.InvokeAsync(new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Output = StandardStreams.Out, Error = StandardStreams.Error,
        });
    }

    /// <summary>The global flags to hand on to a child clearoci (the supervisor).</summary>
    public static IReadOnlyList<string> GlobalArgs(ParseResult p)
    {
        var args = new List<string> { "--root", Path.GetFullPath(p.GetValue(Root)!) };
        if (p.GetValue(Log) is { } log) args.AddRange(["--log", Path.GetFullPath(log), "--log-format", p.GetValue(LogFormat)!]);
        if (p.GetValue(Debug)) args.Add("--debug");
        return args;
    }

    /// <summary>runc's three lines; dockerd parses them.</summary>
    public static string VersionText()
    {
        string info = typeof(App).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? Version;
        int plus = info.IndexOf('+');
        string commit = plus >= 0 ? info[(plus + 1)..] : "unknown";
        return $"clearoci version {Version}\ncommit: {commit}\nspec: {SpecVersion}\n";
    }

    /// <summary>Runs a verb; a ClearOciException becomes stderr text, a --log line and exit 1.</summary>
    public static async Task<int> Execute(ParseResult p, Func<Task<int>> verb)
    {
        if (p.GetValue(Debug))
        {
            string? log = p.GetValue(Log), format = p.GetValue(LogFormat);
            ClearOci.Client.DebugLog.Sink = log is null
                ? m => StandardStreams.Error.WriteLine($"clearoci: {m}")
                : m => ErrorLog.Append(log, ErrorLog.Format(format, "debug", m, DateTimeOffset.Now));
        }
        try
        {
            return await verb();
        }
        catch (ClearOciException e)
        {
            ErrorLog.Report(p.GetValue(Log), p.GetValue(LogFormat), e.Message);
            return 1;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug, not a user error: still one clear line (the stack only with --debug).
            ErrorLog.Report(p.GetValue(Log), p.GetValue(LogFormat), $"internal error: {e.GetType().Name}: {e.Message}");
            ClearOci.Client.DebugLog.Write(e.ToString());
            return 1;
        }
    }
}
