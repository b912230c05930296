using System.Text;
using ClearOci.Native;

namespace ClearOci.Shim;

/// <summary>
/// Runs a short-lived child with its stdin fed and its output captured: containerd's `publish`
/// when there is no $TTRPC_ADDRESS. Its exit status comes from <paramref name="wait"/>, the
/// daemon's reaper (it reaps every child, being a subreaper).
/// </summary>
public sealed class ChildRunner(string path, Func<int, Task<int>> wait)
{
    /// <summary>Runs <paramref name="args"/> (argv[0] included) with <paramref name="input"/> on its stdin.</summary>
    public async Task<ChildResult> RunAsync(IReadOnlyList<string> args, byte[] input)
    {
        var close = new List<int>();
        int inWrite = -1;
        try
        {
            var (inRead, w) = Libc.Pipe();
            close.Add(inRead);
            inWrite = w;
            var (outR, outW) = Libc.Pipe();
            var (errR, errW) = Libc.Pipe();
            close.Add(outW);
            close.Add(errW);
            var stdout = ReadAllAsync(outR);
            var stderr = ReadAllAsync(errR);
            int pid = Spawner.Spawn(new SpawnOptions
            {
                Path = path,
                Args = args,
                Fds = new Dictionary<int, int> { [0] = inRead, [1] = outW, [2] = errW },
            });
            var exited = wait(pid);
            foreach (var fd in close) Libc.close(fd);
            close.Clear();
            int write = inWrite;
            inWrite = -1;
            try { Libc.WriteAll(write, input); } catch (ClearOciException) { /* it did not read it all */ }
            finally { Libc.close(write); }
            int status = await exited.ConfigureAwait(false);
            return new ChildResult(WaitStatus.ToExitCode(status), Encoding.UTF8.GetString(await stdout.ConfigureAwait(false)),
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
}
