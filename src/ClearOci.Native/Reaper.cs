
namespace ClearOci.Native;

/// <summary>
/// Waits for child processes. <see cref="WaitAsync"/> waits for one known child on its own
/// thread; <see cref="ReapAll"/> (for a guest PID 1) reaps every child and dispatches statuses,
/// keeping statuses of children nobody asked for yet.
/// </summary>
public sealed class Reaper
{
    private readonly SemaphoreSlim _childAdded = new(0);
    private readonly object _lock = new();
    private readonly Dictionary<int, int> _unclaimed = new();
    private readonly Dictionary<int, TaskCompletionSource<int>> _pending = new();

    /// <summary>Blocks in waitpid(pid) on a dedicated thread; returns the raw status.</summary>
    public static Task<int> WaitAsync(int pid)
    {
        var tcs = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var t = new Thread(() =>
        {
            while (true)
            {
                int rc = Libc.waitpid(pid, out int status, 0);
                if (rc == pid) { tcs.TrySetResult(status); return; }
                if (rc < 0 && Libc.Errno == Libc.EINTR) continue;
                tcs.TrySetException(Libc.Error($"waitpid {pid}"));
                return;
            }
        }) { IsBackground = true, Name = $"wait-{pid}" };
        t.Start();
        return tcs.Task;
    }

    /// <summary>For a subreaper or PID 1: a status task for <paramref name="pid"/>, served by <see cref="ReapAll"/>.</summary>
    public Task<int> Watch(int pid)
    {
        _childAdded.Release();
        lock (_lock)
        {
            if (_unclaimed.Remove(pid, out int status)) return Task.FromResult(status);
            if (!_pending.TryGetValue(pid, out var tcs))
            {
                tcs = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
                _pending[pid] = tcs;
            }
            return tcs.Task;
        }
    }

    /// <summary>Reaps every child forever (run on a dedicated thread), woken by SIGCHLD.</summary>
    /// <summary>
    /// Reaps every child forever (run on a dedicated thread). It blocks in waitpid(-1) and needs
    /// no SIGCHLD handler: registering one hands SIGCHLD to .NET's own signal machinery, which
    /// was seen to reap children before this loop could.
    /// </summary>
    public void ReapAll()
    {
        while (true)
        {
            int pid = Libc.waitpid(-1, out int status, 0);
            if (pid <= 0)
            {
                // ECHILD: nothing to wait for until the next spawn (or an orphan that finds us).
                if (Libc.Errno != Libc.EINTR) _childAdded.Wait(1000);
                continue;
            }
            TaskCompletionSource<int>? tcs;
            lock (_lock)
            {
                if (_pending.Remove(pid, out tcs)) { }
                else { _unclaimed[pid] = status; if (_unclaimed.Count > 4096) _unclaimed.Clear(); }
            }
            tcs?.TrySetResult(status);
        }
    }
}
