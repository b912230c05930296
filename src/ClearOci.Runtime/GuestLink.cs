using System.Diagnostics;
using ClearOci.Native;
using ClearOci.Protocol;
using ClearOci.Vmm;

namespace ClearOci.Runtime;

/// <summary>
/// The host's link to the agent of a booting VM: an <see cref="AgentClient"/> over the VM's
/// channels, made once the agent said Hello (the end of the boot). Disposed before the VM.
/// </summary>
public sealed class GuestLink : IDisposable
{
    /// <summary>How long a boot may take, from spawning QEMU to the agent's Hello.</summary>
    public static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(90);

    /// <summary>The names the agent finds its channels by (the protocol's), for <see cref="VmOptions.ChannelNames"/>.</summary>
    public static readonly GuestChannelNames ChannelNames = new(ProtocolInfo.ControlPortName, ProtocolInfo.IoPortName, ProtocolInfo.VsockKernelArg);

    private readonly VirtualMachine _vm;

    private GuestLink(VirtualMachine vm, AgentClient agent, BootTimes boot)
    {
        _vm = vm;
        Agent = agent;
        Boot = boot;
    }

    public AgentClient Agent { get; }
    public BootTimes Boot { get; }

    /// <summary>
    /// Waits for the agent of <paramref name="vm"/> (just started) to say Hello, at most
    /// <see cref="BootTimeout"/>. A QEMU that exits, an agent that fails or stays silent is a boot
    /// failure (with the tails of QEMU's log and the console); a cancelled <paramref name="ct"/>
    /// (the caller gave up: a signal) is not. The VM stays the caller's either way.
    /// </summary>
    public static async Task<GuestLink> ConnectAsync(VirtualMachine vm, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(BootTimeout);
        AgentClient? agent = null;
        async Task<Hello> HelloAsync()
        {
            var channels = await vm.ChannelsAsync(timeout.Token).ConfigureAwait(false);
            agent = new AgentClient(channels.Control, channels.Io);
            return await agent.HelloAsync(timeout.Token).ConfigureAwait(false);
        }
        var hello = HelloAsync();
        var first = await Task.WhenAny(hello, vm.Exited, Task.Delay(Timeout.Infinite, timeout.Token)).ConfigureAwait(false);
        if (first != hello || !hello.IsCompletedSuccessfully)
        {
            timeout.Cancel(); // a vsock accept still waiting gives up, so no client appears later
            try { await hello.ConfigureAwait(false); } catch (Exception) { /* reported below */ }
            agent?.Dispose();
            ct.ThrowIfCancellationRequested(); // the caller gave up (a signal): not a boot failure
            string why = first == vm.Exited ? $"QEMU exited with status {WaitStatus.ToExitCode(vm.Exited.Result)}"
                : first == hello && hello.IsFaulted ? hello.Exception!.InnerException!.Message
                : $"the guest agent did not answer within {BootTimeout.TotalSeconds:0} s";
            throw vm.BootFailed(why);
        }
        var total = Stopwatch.GetElapsedTime(vm.QemuSpawnedAt);
        vm.GuestStarted();
        var h = hello.Result;
        return new GuestLink(vm, agent!, new BootTimes(total, h.AgentStartNs, h.AgentReadyNs));
    }

    /// <summary>Asks the agent to power off, and waits for QEMU to exit; kills it after the grace period.</summary>
    public async Task PowerOffAsync(TimeSpan grace)
    {
        try { await Agent.ShutdownAsync().WaitAsync(grace).ConfigureAwait(false); } catch (Exception) { /* the VM may already be gone */ }
        await _vm.WaitExitAsync(grace).ConfigureAwait(false);
    }

    public void Dispose() => Agent.Dispose();
}
