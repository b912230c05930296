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
        var settings = VmSettings.FromEnvironment();
        var host = HostInfo.Probe();
        var assets = GuestAssets.Locate();

        string dir = StateDirectory.Create(r.Root, r.Id);
        DebugLog.Write("booting the VM");
        try
        {
            await using var vm = await VirtualMachine.StartAsync(new VmOptions
            {
                Name = r.Id,
                RuntimeDir = dir,
                Assets = assets,
                Host = host,
                Shares = [("rootfs", rootfs)],
                MemoryMiB = settings.MemoryMiB,
                Vcpus = settings.Vcpus,
                Root = settings.Root,
            }, ct).ConfigureAwait(false);
            DebugLog.Write($"VM up in {vm.Boot.Total.TotalMilliseconds:0} ms (QEMU to kernel {vm.Boot.QemuToKernel.TotalMilliseconds:0} ms, kernel to agent {vm.Boot.KernelToAgent.TotalMilliseconds:0} ms, agent ready after {vm.Boot.AgentStartToReady.TotalMilliseconds:0} ms)");

            var outDone = vm.Agent.AttachOutput(StdoutStream, r.Stdio.Output);
            var errDone = vm.Agent.AttachOutput(StderrStream, r.Stdio.Error);
            var stdio = new StdioStreams { Stdin = StdinStream, Stdout = StdoutStream, Stderr = StderrStream };
            DebugLog.Write("creating the container");
            await vm.Agent.RequestAsync(new CreateContainer { ContainerId = r.Id, ConfigJson = configJson, RootfsTag = "rootfs", Stdio = stdio }, ct).ConfigureAwait(false);
            DebugLog.Write("created");
            var exited = vm.Agent.WaitExitAsync(r.Id);
            await vm.Agent.RequestAsync(new StartProcess { ContainerId = r.Id }, ct).ConfigureAwait(false);
            _ = PumpInputAsync(vm.Agent, r.Stdio.Input);
            using var signals = ForwardSignals(vm.Agent, r.Id);

            DebugLog.Write("container started");
            var result = await exited.ConfigureAwait(false);
            DebugLog.Write($"container exited with status {result.Status}");
            await Task.WhenAny(Task.WhenAll(outDone, errDone), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
                        await vm.ShutdownAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            DebugLog.Write("VM powered off");
            return result.Status;
        }
        finally
        {
            if (DebugLog.Sink != null && File.Exists(Path.Combine(dir, "console.log")))
                foreach (var line in File.ReadLines(Path.Combine(dir, "console.log")).Where(l => l.Contains("clearoci")))
                    DebugLog.Write($"guest: {line.Trim()}");
            StateDirectory.Remove(dir);
        }
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
