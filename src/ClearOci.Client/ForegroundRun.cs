using System.Runtime.InteropServices;
using ClearOci.Native;

namespace ClearOci.Client;

/// <summary>
/// `run` in the foreground, as runc's: create + start + wait. The container is an ordinary one:
/// its supervisor (this process's child) writes state.json and serves the socket, so `state`,
/// `list`, `exec`, `kill`, `pause` and `delete --force` work on it from another shell. This process
/// forwards the signals it receives to the container, waits for the supervisor, which exits with
/// the container's status, deletes the container (unless --keep) and returns that status.
/// </summary>
public static class ForegroundRun
{
    public static async Task<int> RunAsync(Lifecycle lifecycle, CreateRequest create, bool keep)
    {
        var gate = new Lock();
        int supervisor = 0, received = 0;
        bool started = false;
        using var registrations = new Registrations(ForwardedSignals.All.Select(sig => PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
        {
            ctx.Cancel = true;
            lock (gate)
            {
                if (started)
                    _ = Task.Run(() =>
                    {
                        try { lifecycle.Kill(create.Id, sig); }
                        catch (ClearOciException e) { DebugLog.Write($"forwarding signal {sig}: {e.Message}"); }
                    });
                else if (ForwardedSignals.Terminating.Contains(sig) && received == 0)
                {
                    // Before the process runs, a terminating signal ends the run: the supervisor cancels the boot.
                    received = sig;
                    if (supervisor > 0) Libc.kill(supervisor, sig);
                }
            }
        })));
        int pid;
        try
        {
            pid = lifecycle.Create(create with
            {
                TerminalOnStdio = true,
                OnSpawned = spawned =>
                {
                    lock (gate)
                    {
                        supervisor = spawned;
                        if (received != 0) Libc.kill(spawned, received);
                    }
                },
            });
        }
        catch (ClearOciException) when (received != 0)
        {
            DebugLog.Write($"signal {received} before the container started: stopped");
            return 128 + received;
        }
        var exited = Reaper.WaitAsync(pid);
        try
        {
            lock (gate)
                if (received != 0) throw new OperationCanceledException();
            lifecycle.Start(create.Id);
            lock (gate)
            {
                started = true;
                if (received != 0) _ = Task.Run(() => { try { lifecycle.Kill(create.Id, received); } catch (ClearOciException) { } });
            }
        }
        catch (Exception e) when (e is ClearOciException or OperationCanceledException)
        {
            lifecycle.Delete(create.Id, force: true);
            await exited.ConfigureAwait(false);
            if (e is ClearOciException && received == 0) throw;
            return 128 + received;
        }
        int status = WaitStatus.ToExitCode(await exited.ConfigureAwait(false));
        DebugLog.Write($"the container's supervisor exited: {status}");
        if (!keep)
        {
            try { lifecycle.Delete(create.Id, force: false); }
            catch (ClearOciException e) when (e.Code == ErrorCode.NotFound) { /* deleted from another shell (delete --force) */ }
        }
        return status;
    }

    private sealed class Registrations(IEnumerable<PosixSignalRegistration> registrations) : IDisposable
    {
        private readonly List<PosixSignalRegistration> _all = registrations.ToList();

        public void Dispose()
        {
            foreach (var r in _all) r.Dispose();
        }
    }
}
