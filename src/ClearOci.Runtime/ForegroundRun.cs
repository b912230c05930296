using System.Runtime.InteropServices;
using ClearOci.Protocol;
using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Runtime;

/// <summary>The caller's stdio, as streams (tests pass their own).</summary>
public sealed record Stdio(Stream? Input, Stream Output, Stream Error);

/// <summary>What `run` needs besides the bundle.</summary>
public sealed record RunRequest
{
    public required string Root { get; init; }
    public required string Id { get; init; }
    public required string Bundle { get; init; }
    public required Stdio Stdio { get; init; }
    /// <summary>Called once the VM is up, with its boot timings (benchmarks, --debug).</summary>
    public Action<VirtualMachine>? OnBooted { get; init; }
}

/// <summary>
/// `run` in the foreground: config, VM, create, start, relay stdio and signals, wait, power off,
/// clean up. It returns the container's exit code and leaves nothing behind.
/// </summary>
public static class ForegroundRun
{
    private const uint StdinStream = 1, StdoutStream = 2, StderrStream = 3;

    public static async Task<int> RunAsync(RunRequest r, CancellationToken ct = default)
    {
        ContainerId.Validate(r.Id);
        string bundle = Path.GetFullPath(r.Bundle);
        var (_, rootfs) = ConfigLoader.Load(bundle); // every config error surfaces before a VM exists
        string configJson = File.ReadAllText(Path.Combine(bundle, "config.json"));
        var host = HostInfo.Probe();
        var assets = GuestAssets.Locate();

        string dir = StateDirectory.Create(r.Root, r.Id);
        try
        {
            await using var vm = await VirtualMachine.StartAsync(new VmOptions
            {
                Name = r.Id,
                RuntimeDir = dir,
                Assets = assets,
                Host = host,
                Shares = [("rootfs", rootfs)],
            }, ct).ConfigureAwait(false);
            r.OnBooted?.Invoke(vm);

            var outDone = vm.Agent.AttachOutput(StdoutStream, r.Stdio.Output);
            var errDone = vm.Agent.AttachOutput(StderrStream, r.Stdio.Error);
            var stdio = new StdioStreams { Stdin = StdinStream, Stdout = StdoutStream, Stderr = StderrStream };
            await vm.Agent.RequestAsync(new CreateContainer { ContainerId = r.Id, ConfigJson = configJson, RootfsTag = "rootfs", Stdio = stdio }, ct).ConfigureAwait(false);
            var exited = vm.Agent.WaitExitAsync(r.Id);
            await vm.Agent.RequestAsync(new StartProcess { ContainerId = r.Id }, ct).ConfigureAwait(false);
            _ = PumpInputAsync(vm.Agent, r.Stdio.Input);
            using var signals = ForwardSignals(vm.Agent, r.Id);

            Trace("started");
            var result = await exited.ConfigureAwait(false);
            Trace($"exited {result.Status}");
            await Task.WhenAny(Task.WhenAll(outDone, errDone), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
            Trace("output drained");
            await vm.ShutdownAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            Trace("vm down");
            return result.Status;
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("CLEAROCI_KEEP_STATE") != "1") StateDirectory.Remove(dir);
        }
    }

    private static void Trace(string what)
    {
        if (Environment.GetEnvironmentVariable("CLEAROCI_TRACE") == "1") Console.Error.WriteLine($"trace {DateTime.Now:HH:mm:ss.fff} {what}");
    }

    private static async Task PumpInputAsync(AgentClient agent, Stream? input)
    {
        try
        {
            if (input != null)
            {
                byte[] buffer = new byte[IoChannel.MaxChunk];
                int n;
                while ((n = await input.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                    await agent.SendInputAsync(StdinStream, buffer.AsMemory(0, n)).ConfigureAwait(false);
            }
            await agent.SendInputEofAsync(StdinStream).ConfigureAwait(false);
        }
        catch (Exception) { /* the VM went away first */ }
    }

    /// <summary>Signals sent to `clearoci run` go to the container process, as with runc.</summary>
    private static IDisposable ForwardSignals(AgentClient agent, string id)
    {
        var regs = new List<PosixSignalRegistration>();
        foreach (int sig in (int[])[1, 2, 3, 10, 12, 15, 28])
        {
            regs.Add(PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
            {
                ctx.Cancel = true;
                _ = agent.RequestAsync(new SignalProcess { ContainerId = id, Signal = sig });
            }));
        }
        return new Registrations(regs);
    }

    private sealed class Registrations(List<PosixSignalRegistration> regs) : IDisposable
    {
        public void Dispose() { foreach (var r in regs) r.Dispose(); }
    }
}
