using System.Runtime.InteropServices;
using ClearOci.Client;

namespace ClearOci.Runtime;

/// <summary>
/// Signals this process receives go to the container process, as with runc. Installed before
/// anything is started: a terminating signal that arrives before the container runs cancels the
/// boot instead, so the VM is torn down rather than orphaned by .NET's default action.
/// </summary>
public sealed class SignalForwarding : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations;
    private readonly CancellationTokenSource _cancel;
    private volatile ContainerSandbox? _target;

    public SignalForwarding(CancellationToken outer = default)
    {
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations = ForwardedSignals.All.Select(sig => PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
        {
            ctx.Cancel = true;
            if (_target is { } sandbox)
                _ = sandbox.SignalAsync(sig).ContinueWith(_ => { }, TaskScheduler.Default);
            else if (ForwardedSignals.Terminating.Contains(sig))
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
