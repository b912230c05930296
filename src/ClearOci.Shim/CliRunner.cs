using System.Text;
using ClearOci.Native;

namespace ClearOci.Shim;

/// <summary>What one clearoci call left: its exit code and what it printed.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>
/// Runs the clearoci CLI as a child. Its exit status comes from <paramref name="wait"/>: the
/// daemon's reaper (it reaps every child, being a subreaper) or a plain waitpid in `delete`.
/// </summary>
public sealed class CliRunner(string clearociPath, Func<int, Task<int>> wait)
{
    public string Path => clearociPath;

    /// <summary>
    /// Runs <paramref name="args"/> (argv[0] included). With <paramref name="stdio"/>, those fds
    /// become 0-2 and nothing is captured (create and exec hand the container its streams);
    /// otherwise stdin carries <paramref name="input"/> and stdout/stderr are captured.
    /// </summary>
    public async Task<CliResult> RunAsync(IReadOnlyList<string> args, byte[]? input = null, (int In, int Out, int Err)? stdio = null, string? cwd = null)
    {
        var close = new List<int>();
        int devNull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
        close.Add(devNull);
        Task<byte[]> stdout = Task.FromResult(Array.Empty<byte>()), stderr = stdout;
        int inFd, outFd, errFd, inWrite = -1;
        try
        {
            if (stdio is { } s) (inFd, outFd, errFd) = (s.In, s.Out, s.Err);
            else
            {
                inFd = devNull;
                if (input != null)
                {
                    var (r, w) = Libc.Pipe();
                    close.Add(r);
                    (inFd, inWrite) = (r, w);
                }
                var (outR, outW) = Libc.Pipe();
                var (errR, errW) = Libc.Pipe();
                close.Add(outW);
                close.Add(errW);
                (outFd, errFd) = (outW, errW);
                stdout = ReadAllAsync(outR);
                stderr = ReadAllAsync(errR);
            }
            int pid = Spawner.Spawn(new SpawnOptions
            {
                Path = clearociPath,
                Args = args,
                Fds = new Dictionary<int, int> { [0] = inFd, [1] = outFd, [2] = errFd },
                WorkingDirectory = cwd,
            });
            var exited = wait(pid);
            foreach (var fd in close) Libc.close(fd);
            close.Clear();
            if (inWrite >= 0)
            {
                int w = inWrite;
                inWrite = -1;
                try { Libc.WriteAll(w, input); } catch (ClearOciException) { /* it did not read it all */ }
                finally { Libc.close(w); }
            }
            int status = await exited.ConfigureAwait(false);
            return new CliResult(WaitStatus.ToExitCode(status), Encoding.UTF8.GetString(await stdout.ConfigureAwait(false)),
                Encoding.UTF8.GetString(await stderr.ConfigureAwait(false)));
        }
        finally
        {
            foreach (var fd in close) Libc.close(fd);
            if (inWrite >= 0) Libc.close(inWrite);
        }
    }

    private static Task<byte[]> ReadAllAsync(int fd) => Task.Factory.StartNew(() =>
    {
        try { return Libc.ReadToEnd(fd); }
        finally { Libc.close(fd); }
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>clearoci next to this executable, or $CLEAROCI_BIN.</summary>
    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("CLEAROCI_BIN") is { Length: > 0 } env) return env;
        string dir = System.IO.Path.GetDirectoryName(Environment.ProcessPath) ?? "/usr/local/bin";
        return System.IO.Path.Combine(dir, "clearoci");
    }
}
