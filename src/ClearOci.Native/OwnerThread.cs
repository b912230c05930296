using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace ClearOci.Native;

/// <summary>
/// A dedicated thread whose children die with it. The kernel's parent-death signal
/// (PR_SET_PDEATHSIG, set in the child by setpriv(1) before it execs the program: posix_spawn
/// runs no code of ours there) fires when the *thread* that spawned the child ends, and every
/// thread ends when the process dies, whatever kills it (SIGKILL included). So a child spawned
/// here cannot outlive this process; and because the thread lives until <see cref="Dispose"/>,
/// it does not end early either (a pool thread could). <paramref name="enter"/> runs first on the
/// thread (e.g. unshare a mount namespace that the children then share).
/// </summary>
public sealed class OwnerThread : IDisposable
{
    /// <summary>util-linux's setpriv (Debian: essential); without it children are spawned plainly.</summary>
    public const string SetPriv = "/usr/bin/setpriv";

    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private ExceptionDispatchInfo? _enterFailed;

    public OwnerThread(string name, Action? enter = null)
    {
        _thread = new Thread(() =>
        {
            try { enter?.Invoke(); }
            catch (Exception e) { _enterFailed = ExceptionDispatchInfo.Capture(e); }
            foreach (var work in _work.GetConsumingEnumerable()) work();
        }) { Name = name, IsBackground = true };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the thread and returns its result (or throws its exception).</summary>
    public T Run<T>(Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        using var done = new ManualResetEventSlim();
        _work.Add(() =>
        {
            try
            {
                _enterFailed?.Throw();
                result = work();
            }
            catch (Exception e) { error = ExceptionDispatchInfo.Capture(e); }
            finally { done.Set(); }
        });
        done.Wait();
        error?.Throw();
        return result;
    }

    /// <summary>Spawns <paramref name="o"/> from this thread with SIGKILL as its parent-death signal.</summary>
    public int Spawn(SpawnOptions o) => Run(() => Spawner.Spawn(WithParentDeathSignal(o)));

    /// <summary><paramref name="o"/> run through setpriv --pdeathsig KILL (the same pid: setpriv execs the program).</summary>
    public static SpawnOptions WithParentDeathSignal(SpawnOptions o) => !File.Exists(SetPriv) ? o : new SpawnOptions
    {
        Path = SetPriv,
        Args = ["setpriv", "--pdeathsig", "KILL", "--", o.Path, .. o.Args.Skip(1)],
        Env = o.Env, Fds = o.Fds, NewSession = o.NewSession, WorkingDirectory = o.WorkingDirectory,
    };

    /// <summary>Ends the thread: call it once its children are gone (they would get SIGKILL).</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread) _thread.Join();
        _work.Dispose();
    }
}
