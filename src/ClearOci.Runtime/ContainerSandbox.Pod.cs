using ClearOci.Client;
using ClearOci.Protocol;
using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Runtime;

/// <summary>A pod's later container: created in the VM of the pod's first one (see PodSandbox).</summary>
public sealed partial class ContainerSandbox
{
    /// <summary>Set for a pod's later container: the share subdirectory holding its rootfs and binds. The VM is not ours.</summary>
    private string? _pod;

    /// <summary>Runs just before the VM powers off once this (the VM's own) container exited.</summary>
    public Func<Task>? BeforePowerOff { get; set; }

    /// <summary>The share entry of container <paramref name="id"/> of a pod (one path component).</summary>
    public static string PodShareName(string id) => $"pod-{id}";

    /// <summary>
    /// Prepares container <paramref name="id"/> of <paramref name="bundle"/> in <paramref name="host"/>'s
    /// running VM: its rootfs and host binds join the VM's share under a subdirectory of their own,
    /// its stdio gets io streams of its own. Not yet running.
    /// </summary>
    public static async Task<ContainerSandbox> JoinAsync(ContainerSandbox host, string id, string bundle, Stdio stdio, string? consoleSocket)
    {
        if (host._pod != null) throw new ClearOciException(ErrorCode.Internal, "a pod's later container cannot host another");
        var (spec, rootfs) = ConfigLoader.Load(bundle);
        var vm = host.Vm;
        var agent = host.Agent;
        var share = vm.Options.Shares.Single(s => s.Tag == HostShares.Tag);
        int virtiofsd = vm.HelperPids[vm.Options.Shares.ToList().IndexOf(share)];
        string sub = PodShareName(id);
        var plan = HostShares.Build(File.ReadAllText(Path.Combine(bundle, ConfigLoader.ConfigFileName)), bundle, rootfs, sub);
        HostTerminal? terminal = null;
        ContainerSandbox? sandbox = null;
        LiveShare.Add(share, virtiofsd, sub, plan.Binds);
        try
        {
            if (spec.Process?.Terminal == true && consoleSocket != null)
            {
                terminal = HostTerminal.Open(consoleSocket, (ushort)(spec.Process.ConsoleSize?.Height ?? 0), (ushort)(spec.Process.ConsoleSize?.Width ?? 0));
                stdio = new Stdio(terminal.Input, terminal.Output, terminal.Output);
            }
            uint first = (uint)Interlocked.Add(ref _nextStream, 3);
            var streams = new StdioStreams { Stdin = first, Stdout = first + 1, Stderr = first + 2 };
            sandbox = new ContainerSandbox(id, spec, vm, agent) { _terminal = terminal, _pod = sub, _stdinStream = streams.Stdin };
            terminal?.FollowSize((rows, cols) => agent.RequestAsync(new ResizeTerminal { ContainerId = id, Rows = rows, Cols = cols }));
            sandbox._outputDone = Task.WhenAll(agent.AttachOutput(streams.Stdout, stdio.Output), agent.AttachOutput(streams.Stderr, stdio.Error));
            await agent.RequestAsync(new CreateContainer
            {
                ContainerId = id, ConfigJson = plan.ConfigJson, RootfsTag = HostShares.Tag, RootfsPath = $"{sub}/{HostShares.RootfsName}",
                Stdio = streams,
            }).ConfigureAwait(false);
            DebugLog.Write($"pod container {id} created");
            return sandbox;
        }
        catch
        {
            if (sandbox != null) await sandbox.DisposeAsync().ConfigureAwait(false);
            else
            {
                terminal?.Dispose();
                LiveShare.Remove(share, virtiofsd, sub);
            }
            throw;
        }
    }

    /// <summary>Takes this container's binds out of the VM's share (the guest keeps what it still holds, lazily detached).</summary>
    private void LeavePod()
    {
        var share = Vm.Options.Shares.Single(s => s.Tag == HostShares.Tag);
        var pids = Vm.HelperPids;
        int index = Vm.Options.Shares.ToList().IndexOf(share);
        if (index < pids.Count) LiveShare.Remove(share, pids[index], _pod!);
    }
}
