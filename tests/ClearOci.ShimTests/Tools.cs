using System.Diagnostics;
using System.Text;

namespace ClearOci.ShimTests;

/// <summary>What one command did.</summary>
public sealed record RunResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"`{Command}`: exit {ExitCode}; stdout: \"{Clip(Stdout)}\"; stderr: \"{Clip(Stderr)}\"";
    private static string Clip(string s) => s.Length <= 800 ? s : s[..800] + "...";
}

public static class Tools
{
    public static string RepoRoot { get; } = FindRepo();

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "ClearOci.sln"))) return d.FullName;
        throw new InvalidOperationException("ClearOci.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>$CLEAROCI_SHIM_BIN, else out/bin/containerd-shim-clearoci-v2 of this checkout.</summary>
    public static string Shim { get; } = Environment.GetEnvironmentVariable("CLEAROCI_SHIM_BIN") is { Length: > 0 } s
        ? Path.GetFullPath(s) : Path.Combine(RepoRoot, "out", "bin", "containerd-shim-clearoci-v2");

    /// <summary>$CLEAROCI_BIN, else out/bin/clearoci of this checkout.</summary>
    public static string ClearOci { get; } = Environment.GetEnvironmentVariable("CLEAROCI_BIN") is { Length: > 0 } b
        ? Path.GetFullPath(b) : Path.Combine(RepoRoot, "out", "bin", "clearoci");

    /// <summary>Runs a command with a closed stdin; kills it (by pid) and fails the test on timeout.</summary>
    public static async Task<RunResult> RunAsync(string exe, IReadOnlyList<string> args, TimeSpan timeout, string? stdin = null)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        string command = $"{Path.GetFileName(exe)} {string.Join(' ', args)}";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        if (stdin != null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using (var cts = new CancellationTokenSource(timeout))
        {
            try { await p.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
                await p.WaitForExitAsync();
                Assert.Fail($"`{command}` did not finish within {timeout.TotalSeconds:0} s and was killed; stderr so far: {(stderr.IsCompleted ? stderr.Result : "")}");
            }
        }
        return new RunResult(command, p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task<bool> PollAsync(Func<Task<bool>> condition, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            if (await condition()) return true;
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(100);
        }
    }

    /// <summary>Pids of live processes whose command line contains every one of <paramref name="parts"/>.</summary>
    public static List<int> FindProcesses(params string[] parts)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId) continue;
            string cmdline;
            try { cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' '); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (parts.All(cmdline.Contains)) found.Add(pid);
        }
        return found;
    }
}
