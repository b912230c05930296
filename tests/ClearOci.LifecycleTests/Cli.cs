using System.Diagnostics;
using System.Text;

namespace ClearOci.LifecycleTests;

/// <summary>What one CLI invocation did.</summary>
public sealed record CliResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"`{Command}`: exit {ExitCode} after {Elapsed.TotalSeconds:0.00} s; stdout: \"{Clip(Stdout)}\"; stderr: \"{Clip(Stderr)}\"";

    private static string Clip(string s) => s.Length <= 600 ? s : s[..600] + "...";
}

/// <summary>Runs clearoci (and runc) as child processes of the test process.</summary>
public static class Cli
{
    public static readonly TimeSpan VerbTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(120);

    /// <summary>$CLEAROCI_BIN, else out/bin/clearoci of this checkout (`make build`).</summary>
    public static string Binary { get; } = Environment.GetEnvironmentVariable("CLEAROCI_BIN") is { Length: > 0 } b
        ? Path.GetFullPath(b)
        : Path.Combine(Repo.Root, "out", "bin", "clearoci");

    /// <summary>$RUNC_BIN, else /usr/sbin/runc.</summary>
    public static string Runc { get; } = Environment.GetEnvironmentVariable("RUNC_BIN") is { Length: > 0 } r ? r : "/usr/sbin/runc";

    /// <summary>
    /// Runs <paramref name="exe"/> with an empty, closed stdin and captures stdout and stderr. On
    /// timeout the child is killed and the test fails.
    /// </summary>
    public static async Task<CliResult> RunAsync(string exe, IReadOnlyList<string> args, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in env ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        string command = $"{Path.GetFileName(exe)} {string.Join(' ', args)}";
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var limit = timeout ?? VerbTimeout;
        using (var cts = new CancellationTokenSource(limit))
        {
            try { await p.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                await p.WaitForExitAsync();
                Assert.Fail($"`{command}` did not finish within {limit.TotalSeconds:0} s and was killed");
            }
        }
        // A verb's own output must end with it; a child holding the pipes would hang here.
        var drained = Task.WhenAll(stdout, stderr);
        if (await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(10))) != drained)
            Assert.Fail($"`{command}` exited ({p.ExitCode}) but its stdout/stderr stayed open for 10 s");
        var result = new CliResult(command, p.ExitCode, await stdout, await stderr, clock.Elapsed);
        TestContext.Out.WriteLine(result);
        return result;
    }

    /// <summary>
    /// Runs a `create` the way an engine does: its stdin is <paramref name="stdinPath"/>, its stdout and stderr are
    /// the files <paramref name="stdoutPath"/> and <paramref name="stderrPath"/> (appended to), which
    /// the detached supervisor keeps as the container's stdio. The test process is the parent of
    /// `create` (sh execs it), so it adopts the supervisor when `create` exits.
    /// </summary>
    public static async Task<CliResult> RunDetachedAsync(string exe, IReadOnlyList<string> args, string stdoutPath, string stderrPath, TimeSpan? timeout = null, string stdinPath = "/dev/null")
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" <\"$LT_STDIN\" >>\"$LT_STDOUT\" 2>>\"$LT_STDERR\"");
        psi.ArgumentList.Add(exe);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LT_STDIN"] = stdinPath;
        psi.Environment["LT_STDOUT"] = stdoutPath;
        psi.Environment["LT_STDERR"] = stderrPath;
        string command = $"{Path.GetFileName(exe)} {string.Join(' ', args)}";
        long errStart = File.Exists(stderrPath) ? new FileInfo(stderrPath).Length : 0;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        p.StandardInput.Close();
        var shOut = p.StandardOutput.ReadToEndAsync();
        var shErr = p.StandardError.ReadToEndAsync();
        var limit = timeout ?? CreateTimeout;
        using (var cts = new CancellationTokenSource(limit))
        {
            try { await p.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                await p.WaitForExitAsync();
                Assert.Fail($"`{command}` did not finish within {limit.TotalSeconds:0} s and was killed");
            }
        }
        await Task.WhenAll(shOut, shErr);
        string err = await shErr + ReadFrom(stderrPath, errStart);
        var result = new CliResult(command, p.ExitCode, await shOut, err, clock.Elapsed);
        TestContext.Out.WriteLine(result);
        return result;
    }

    private static string ReadFrom(string path, long offset)
    {
        if (!File.Exists(path)) return "";
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        f.Seek(offset, SeekOrigin.Begin);
        using var r = new StreamReader(f, Encoding.UTF8);
        return r.ReadToEnd();
    }
}

/// <summary>Processes by command line, from /proc.</summary>
public static class Processes
{
    public sealed record Info(int Pid, string CommandLine)
    {
        public override string ToString() => $"pid {Pid}: {(CommandLine.Length > 300 ? CommandLine[..300] + "..." : CommandLine)}";
    }

    /// <summary>Live (non-zombie) processes whose command line contains <paramref name="needle"/>, this process excluded.</summary>
    public static List<Info> Matching(string needle, Func<string, bool>? also = null)
    {
        var found = new List<Info>();
        int self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == self) continue;
            try
            {
                string cmdline = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "cmdline"))).Replace('\0', ' ').Trim();
                if (cmdline.Length > 0 && cmdline.Contains(needle, StringComparison.Ordinal) && (also == null || also(cmdline)))
                    found.Add(new Info(pid, cmdline));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>QEMU, virtiofsd or clearoci processes whose command line holds <paramref name="needle"/>.</summary>
    public static List<Info> VmProcesses(string needle) =>
        Matching(needle, c => c.Contains("qemu", StringComparison.Ordinal) || c.Contains("virtiofsd", StringComparison.Ordinal)
            || c.Contains("clearoci", StringComparison.Ordinal));
}

/// <summary>Repository paths, found by walking up from the test binary to ClearOci.sln.</summary>
public static class Repo
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ClearOci.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no ClearOci.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => s_root.Value;
    public static string BundleScript => Path.Combine(Root, "spec-fixtures", "make-busybox-bundle.sh");
}

/// <summary>Deadline-bounded polling (never a fixed sleep).</summary>
public static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        T last = await probe();
        while (!done(last))
        {
            if (clock.Elapsed > deadline) Assert.Fail($"{what}: not reached within {deadline.TotalSeconds:0} s; last seen: {last}");
            await Task.Delay(50);
            last = await probe();
        }
        return last;
    }

    public static Task<T> UntilAsync<T>(Func<T> probe, Func<T, bool> done, TimeSpan deadline, string what) =>
        UntilAsync(() => Task.FromResult(probe()), done, deadline, what);
}
