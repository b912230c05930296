using System.Runtime.InteropServices;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>What `run` needs besides the bundle.</summary>
public sealed record RunRequest
{
    public required string Root { get; init; }
    public required string Id { get; init; }
    public required string Bundle { get; init; }
    public required Stdio Stdio { get; init; }
}

/// <summary>
/// `run` in the foreground: create, start, relay stdio and signals, wait, power off, clean up,
/// all in the caller's process. Returns the container's exit code and leaves nothing behind.
/// </summary>
public static class ForegroundRun
{
    public static async Task<int> RunAsync(RunRequest r, CancellationToken ct = default)
    {
        ContainerId.Validate(r.Id);
        string bundle = Path.TrimEndingDirectorySeparator(Path.GetFullPath(r.Bundle));
        var config = ContainerSandbox.LoadChecked(bundle); // every config error surfaces before anything is created
        using var signals = new SignalForwarding(ct);
        string dir = StateDirectory.Create(r.Root, r.Id);
        try
        {
            await using var sandbox = await ContainerSandbox.CreateAsync(r.Id, bundle, config, dir, r.Stdio, signals.Token).ConfigureAwait(false);
            await sandbox.StartAsync(r.Stdio.Input, signals.Token).ConfigureAwait(false);
            signals.ForwardTo(sandbox);
            return await sandbox.WaitAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (signals.Received != 0)
        {
            DebugLog.Write($"signal {signals.Received} before the container started: stopping");
            return 128 + signals.Received;
        }
        finally
        {
            if (DebugLog.Sink != null && File.Exists(Path.Combine(dir, "console.log")))
                foreach (var line in File.ReadLines(Path.Combine(dir, "console.log")).Where(l => l.Contains("clearoci")))
                    DebugLog.Write($"guest: {line.Trim()}");
            StateDirectory.Remove(dir);
        }
    }
}

/// <summary>
/// Signals this process receives go to the container process, as with runc. Installed before
/// anything is started: a terminating signal that arrives before the container runs cancels the
/// boot instead, so the VM is torn down rather than orphaned by .NET's default action.
/// </summary>
public sealed class SignalForwarding : IDisposable
{
    /// <summary>HUP INT QUIT USR1 USR2 TERM WINCH.</summary>
    public static readonly int[] Forwarded = [1, 2, 3, 10, 12, 15, 28];
    private static readonly int[] Terminating = [1, 2, 3, 15];
    private readonly List<PosixSignalRegistration> _registrations;
    private readonly CancellationTokenSource _cancel;
    private volatile ContainerSandbox? _target;

    public SignalForwarding(CancellationToken outer = default)
    {
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations = Forwarded.Select(sig => PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
        {
            ctx.Cancel = true;
            if (_target is { } sandbox)
                _ = sandbox.SignalAsync(sig).ContinueWith(_ => { }, TaskScheduler.Default);
            else if (Terminating.Contains(sig))
            {
                Received = sig;
                _cancel.Cancel();
            }
        })).ToList();
    }

    /// <summary>Cancelled by a terminating signal before <see cref="ForwardTo"/>.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>The terminating signal that cancelled the start, or 0.</summary>
    public int Received { get; private set; }

    public void ForwardTo(ContainerSandbox sandbox) => _target = sandbox;

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cancel.Dispose();
    }
}
