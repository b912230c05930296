using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ClearOci.VmTests;

/// <summary>What one `clearoci` invocation did.</summary>
internal sealed record CliResult(int ExitCode, byte[] Stdout, byte[] Stderr, TimeSpan Elapsed)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);
    public string StderrText => Encoding.UTF8.GetString(Stderr);

    public override string ToString() =>
        $"exit {ExitCode} after {Elapsed.TotalSeconds:0.00} s; stdout {Stdout.Length} bytes: {Preview(Stdout)}; stderr: {Preview(Stderr)}";

    private static string Preview(byte[] b) => b.Length <= 400 ? $"\"{Encoding.UTF8.GetString(b)}\"" : $"\"{Encoding.UTF8.GetString(b, 0, 400)}...\"";
}

/// <summary>Runs the real CLI binary as a child process.</summary>
internal static partial class Cli
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    /// <summary>$CLEAROCI_BIN, else out/bin/clearoci of this checkout (`make build`).</summary>
    public static string Binary { get; } = Environment.GetEnvironmentVariable("CLEAROCI_BIN") is { Length: > 0 } b
        ? Path.GetFullPath(b)
        : Path.Combine(Repo.Root, "out", "bin", "clearoci");

    public static void RequireBinary()
    {
        if (!File.Exists(Binary)) Assert.Fail($"{Binary} does not exist: run `make build` (or set CLEAROCI_BIN)");
    }

    /// <summary>
    /// Runs clearoci with <paramref name="args"/>, feeding <paramref name="stdin"/> (or an empty,
    /// closed stdin) and capturing stdout and stderr as bytes. On timeout the child gets SIGTERM,
    /// then 10 s later SIGKILL for its whole process tree, and the test fails.
    /// </summary>
    /// <param name="whileRunning">Runs once the child started, with its pid and its live stdout.</param>
    public static async Task<CliResult> RunAsync(IReadOnlyList<string> args, byte[]? stdin = null, TimeSpan? timeout = null,
        Action<int>? started = null, Action? timedOut = null, Func<int, CaptureStream, Task>? whileRunning = null,
        IReadOnlyDictionary<string, string?>? env = null)
    {
        RequireBinary();
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("CLEAROCI_KEEP_STATE"); // the tests check that state is removed
        psi.Environment.Remove("CLEAROCI_TRACE");
        foreach (var (name, value) in env ?? new Dictionary<string, string?>())
            if (value is null) psi.Environment.Remove(name); else psi.Environment[name] = value;

        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {Binary}");
        started?.Invoke(p.Id);
        var stdout = new CaptureStream();
        var stderr = new CaptureStream();
        var outTask = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var errTask = p.StandardError.BaseStream.CopyToAsync(stderr);
        var inTask = Task.Run(async () =>
        {
            try
            {
                if (stdin is { Length: > 0 }) await p.StandardInput.BaseStream.WriteAsync(stdin);
            }
            catch (IOException) { /* the child stopped reading */ }
            finally
            {
                try { p.StandardInput.Close(); } catch (IOException) { }
            }
        });

        var limit = timeout ?? DefaultTimeout;
        using (var cts = new CancellationTokenSource(limit))
        {
            try
            {
                if (whileRunning != null) await whileRunning(p.Id, stdout).WaitAsync(cts.Token);
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut?.Invoke();
                Kill(p.Id, 15);
                if (!p.WaitForExit(10_000)) p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
                await Task.WhenAny(Task.WhenAll(outTask, errTask), Task.Delay(5000));
                Assert.Fail($"clearoci {string.Join(' ', args)} did not finish within {limit.TotalSeconds:0} s and was killed; " +
                    $"stdout so far {stdout.ToArray().Length} bytes, stderr: {Encoding.UTF8.GetString(stderr.ToArray())}");
            }
        }
        var elapsed = clock.Elapsed;
        // clearoci has exited: its stdout and stderr must reach EOF now, unless something it
        // started still holds them open.
        var drained = Task.WhenAll(outTask, errTask);
        if (await Task.WhenAny(drained, Task.Delay(10_000)) != drained)
            Assert.Fail($"clearoci exited ({p.ExitCode}) but its stdout/stderr stayed open for 10 s: a process it started still holds them");
        await drained;
        await inTask;
        var result = new CliResult(p.ExitCode, stdout.ToArray(), stderr.ToArray(), elapsed);
        TestContext.Out.WriteLine($"clearoci {string.Join(' ', args)}: {result}");
        return result;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    public static bool Kill(int pid, int signal) => KillNative(pid, signal) == 0;
}

/// <summary>A write-only stream that keeps what is written; safe to read while a copy writes into it.</summary>
internal sealed class CaptureStream : Stream
{
    private readonly MemoryStream _data = new();

    public byte[] ToArray() { lock (_data) return _data.ToArray(); }
    public string Text => Encoding.UTF8.GetString(ToArray());

    /// <summary>Completes when the output contains <paramref name="text"/>.</summary>
    public async Task WaitFor(string text)
    {
        while (!Text.Contains(text, StringComparison.Ordinal)) await Task.Delay(20);
    }

    public override void Write(byte[] buffer, int offset, int count) { lock (_data) _data.Write(buffer, offset, count); }
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) { Write(buffer, offset, count); return Task.CompletedTask; }
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) { lock (_data) _data.Write(buffer.Span); return ValueTask.CompletedTask; }
    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Processes by command line, from /proc.</summary>
internal static class Processes
{
    public sealed record Info(int Pid, string CommandLine)
    {
        public override string ToString() => $"pid {Pid}: {(CommandLine.Length > 300 ? CommandLine[..300] + "..." : CommandLine)}";
    }

    /// <summary>Live (non-zombie) processes whose command line contains any of <paramref name="needles"/>, this process excluded.</summary>
    public static List<Info> Matching(params string[] needles)
    {
        var found = new List<Info>();
        int self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == self) continue;
            try
            {
                // A zombie's cmdline is empty; an exiting process may vanish while we look.
                string cmdline = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(dir, "cmdline"))).Replace('\0', ' ').Trim();
                if (cmdline.Length > 0 && needles.Any(n => cmdline.Contains(n, StringComparison.Ordinal)))
                    found.Add(new Info(pid, cmdline));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return found;
    }
}

/// <summary>Repository paths, found by walking up from the test binary to ClearOci.sln.</summary>
internal static class Repo
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
