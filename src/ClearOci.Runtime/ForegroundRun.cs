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
        string bundle = Path.GetFullPath(r.Bundle);
        ConfigLoader.Load(bundle); // every config error surfaces before anything is created
        string dir = StateDirectory.Create(r.Root, r.Id);
        try
        {
            await using var sandbox = await ContainerSandbox.CreateAsync(r.Id, bundle, dir, r.Stdio, ct).ConfigureAwait(false);
            await sandbox.StartAsync(r.Stdio.Input, ct).ConfigureAwait(false);
            using var signals = SignalForwarding.Install(sandbox);
            return await sandbox.WaitAsync().ConfigureAwait(false);
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

/// <summary>Signals this process receives go to the container process, as with runc.</summary>
public static class SignalForwarding
{
    /// <summary>HUP INT QUIT USR1 USR2 TERM WINCH.</summary>
    public static readonly int[] Forwarded = [1, 2, 3, 10, 12, 15, 28];

    public static IDisposable Install(ContainerSandbox sandbox)
    {
        var regs = Forwarded.Select(sig => PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
        {
            ctx.Cancel = true;
            _ = sandbox.SignalAsync(sig).ContinueWith(_ => { }, TaskScheduler.Default);
        })).ToList();
        return new Registrations(regs);
    }

    private sealed class Registrations(List<PosixSignalRegistration> regs) : IDisposable
    {
        public void Dispose() { foreach (var r in regs) r.Dispose(); }
    }
}
