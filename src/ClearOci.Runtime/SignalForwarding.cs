using System.Runtime.InteropServices;

namespace ClearOci.Runtime;

/// <summary>
/// Signals this process receives go to the container process, as with runc. Installed before
/// anything is started: a terminating signal that arrives before the container runs cancels the
/// boot instead, so the VM is torn down rather than orphaned by .NET's default action.
/// </summary>
public sealed class SignalForwarding : IDisposable
{
    /// <summary>HUP INT QUIT USR1 USR2 TERM WINCH.</summary>
    public static readonly int[] Forwarded = [1, 2, 3, 10, 12, 15, 28];
    /// <summary>HUP INT QUIT TERM: before the container runs, these end the start instead of reaching it.</summary>
    public static readonly int[] Terminating = [1, 2, 3, 15];
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
