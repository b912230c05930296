using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Protocol;
using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Runtime;

/// <summary>
/// One container in its own VM: boot and create, start, signal, pause, wait, power off. Shared
/// by `run` (in the caller's process) and the per-VM supervisor (behind `create`).
/// </summary>
public sealed partial class ContainerSandbox : IAsyncDisposable
{
    private const uint StdinStream = 1, StdoutStream = 2, StderrStream = 3;
    private Task _outputDone = Task.CompletedTask;
    private HostTerminal? _terminal;
    private NetworkMirror? _network;
    private DnsRelay? _dns;
    private GuestLink? _link; // the VM's own container's: a pod's later one uses the pod's
    private readonly List<(Stream Input, uint Stream)> _pendingInputs = new();

    /// <summary>With a terminal, stdin comes from the host pty, whatever the caller passes.</summary>
    public Stream? TerminalInput => _terminal?.Input;

    private ContainerSandbox(string id, OciSpec spec, VirtualMachine vm, AgentClient agent)
    {
        Id = id;
        Spec = spec;
        Vm = vm;
        Agent = agent;
        Exited = agent.WaitExitAsync(id);
    }

    public string Id { get; }
    public OciSpec Spec { get; }
    public VirtualMachine Vm { get; }
    /// <summary>The VM's guest agent (shared by a pod's containers).</summary>
    public AgentClient Agent { get; }
    public Task<ProcessExited> Exited { get; }

    /// <summary>
    /// Boots a VM for the bundle and prepares the container process in it (not yet running).
    /// <paramref name="netns"/>: an open fd of the container's network namespace on the host, taken
    /// over (its interfaces are mirrored into the VM); null: the namespace config.json names by path, if any.
    /// </summary>
    public static async Task<ContainerSandbox> CreateAsync(string id, string bundle, (OciSpec Spec, string Rootfs) config, string runtimeDir, Stdio stdio,
        CancellationToken ct = default, string? consoleSocket = null, int preserveFds = 0, int? netns = null)
    {
        var (spec, rootfs) = config;
        int netnsFd = netns ?? HostNetwork.OpenNamed(spec);
        NetworkMirror? network = null;
        HostTerminal? terminal = null;
        bool handedOver = false; // to the sandbox, whose DisposeAsync cleans up from then on
        try
        {
            if (spec.Process?.Terminal == true && consoleSocket != null)
            {
                terminal = HostTerminal.Open(consoleSocket, (ushort)(spec.Process.ConsoleSize?.Height ?? 0), (ushort)(spec.Process.ConsoleSize?.Width ?? 0));
                stdio = new Stdio(terminal.Input, terminal.Output, terminal.Output);
            }
            var shares = HostShares.Build(File.ReadAllText(Path.Combine(bundle, ConfigLoader.ConfigFileName)), bundle, rootfs);
            network = netnsFd >= 0 ? NetworkMirror.Create(netnsFd) : null;
            netnsFd = -1; // the mirror's now
            var settings = VmSettings.Load();
            var host = HostInfo.Probe();
            var size = VmSizing.ForContainer(spec.Linux?.Resources, PodAnnotations.Limits(spec.Annotations), settings, host.Cpus, host.MemoryMiB);
            DebugLog.Write($"booting the VM ({size.MemoryMiB} MiB, {size.Vcpus} vCPU)");
            var (vm, link) = await BootAsync(new VmOptions
            {
                Name = id,
                RuntimeDir = runtimeDir,
                Assets = GuestAssets.Locate(),
                Host = host,
                Shares = [new SharedDirectory(HostShares.Tag, Path.Combine(runtimeDir, "share"), shares.Binds)],
                Nics = network?.Taps ?? [],
                MemoryMiB = size.MemoryMiB,
                Vcpus = size.Vcpus,
                Root = settings.Root,
                TcgCacheMiB = settings.TcgCacheMiB,
                ChannelNames = GuestLink.ChannelNames,
            }, network, ct).ConfigureAwait(false);
            var boot = link.Boot;
            DebugLog.Write($"VM up in {boot.Total.TotalMilliseconds:0} ms (QEMU to kernel {boot.QemuToKernel.TotalMilliseconds:0} ms, kernel to agent {boot.KernelToAgent.TotalMilliseconds:0} ms, agent ready after {boot.AgentStartToReady.TotalMilliseconds:0} ms)");
            var agent = link.Agent;
            var sandbox = new ContainerSandbox(id, spec, vm, agent) { _terminal = terminal, _network = network, _link = link };
            handedOver = true;
            try
            {
                var (dnsServers, dnsReach) = DnsRelay.Plan(spec, bundle, rootfs, network);
                sandbox._dns = DnsRelay.Start(agent, dnsServers, dnsReach);
                terminal?.FollowSize((rows, cols) => agent.RequestAsync(new ResizeTerminal { ContainerId = id, Rows = rows, Cols = cols }));
                sandbox._outputDone = Task.WhenAll(agent.AttachOutput(StdoutStream, stdio.Output), agent.AttachOutput(StderrStream, stdio.Error));
                await agent.RequestAsync(new ConfigureNetwork { Interfaces = network?.Interfaces ?? [], DnsRelay = dnsServers }, ct).ConfigureAwait(false);
                var streams = new StdioStreams { Stdin = StdinStream, Stdout = StdoutStream, Stderr = StderrStream };
                var extras = sandbox.RelayPreservedFds(preserveFds);
                await agent.RequestAsync(new CreateContainer
                {
                    ContainerId = id, ConfigJson = shares.ConfigJson, RootfsTag = HostShares.Tag, RootfsPath = HostShares.RootfsName,
                    Stdio = streams, ExtraFds = extras.Count == 0 ? null : extras,
                }, ct).ConfigureAwait(false);
                foreach (var (input, stream) in sandbox._pendingInputs) _ = sandbox.PumpInputAsync(input, stream);
                DebugLog.Write("container created");
                return sandbox;
            }
            catch
            {
                await sandbox.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch when (!handedOver)
        {
            network?.Dispose();
            if (netnsFd >= 0) Libc.close(netnsFd);
            terminal?.Dispose();
            throw;
        }
    }

    /// <summary>Starts the VM and waits for its agent; a failed boot leaves no VM behind.</summary>
    private static async Task<(VirtualMachine Vm, GuestLink Link)> BootAsync(VmOptions options, NetworkMirror? network, CancellationToken ct)
    {
        var vm = await VirtualMachine.StartAsync(options).ConfigureAwait(false);
        // QEMU holds the taps now: ours go, so each tap lives exactly as long as the VM.
        network?.CloseTaps();
        try { return (vm, await GuestLink.ConnectAsync(vm, ct).ConfigureAwait(false)); }
        catch
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// --preserve-fds: fds 3..3+N-1 of this process reach the container as the same numbers, each
    /// relayed as a byte stream both ways (a pipe or a connected socket works; a listening socket,
    /// which would need accept() on the host, does not).
    /// </summary>
    private List<ExtraFd> RelayPreservedFds(int count)
    {
        var extras = new List<ExtraFd>();
        for (int i = 0; i < count; i++)
        {
            int fd = 3 + i;
            uint first = (uint)Interlocked.Add(ref _nextStream, 3);
            var extra = new ExtraFd(fd, first, first + 1);
            extras.Add(extra);
            int readFd = Libc.Check(Libc.fcntl(fd, 1030, 3), $"dup preserved fd {fd}");
            int writeFd = Libc.Check(Libc.fcntl(fd, 1030, 3), $"dup preserved fd {fd}");
            _ = Agent.AttachOutput(extra.Out, new RawFdStream(writeFd, canRead: false, canWrite: true));
            // Its input flows once the guest has the process (frames for an unknown stream are dropped).
            _pendingInputs.Add((new RawFdStream(readFd, canRead: true, canWrite: false), extra.In));
        }
        return extras;
    }

    /// <summary>Runs the prepared process and starts relaying <paramref name="input"/> to its stdin.</summary>
    public async Task StartAsync(Stream? input, CancellationToken ct = default)
    {
        await Agent.RequestAsync(new StartProcess { ContainerId = Id }, ct).ConfigureAwait(false);
        DebugLog.Write("container started");
        _ = PumpInputAsync(_terminal?.Input ?? input, _stdinStream);
    }

    /// <summary>Stream ids of the VM's io channel: unique in this process, so also among a pod's containers.</summary>
    private static int _nextStream = 10;
    private uint _stdinStream = StdinStream;

    /// <summary>Runs another process in the container; returns its exit code once it ended and its output drained.</summary>
    public async Task<int> ExecAsync(string execId, string processJson, Stream? input, Stream output, Stream error, Action onStarted, string? consoleSocket = null)
    {
        var process = ConfigLoader.ParseProcess(System.Text.Encoding.UTF8.GetBytes(processJson), "process.json");
        using var terminal = process.Terminal == true
            ? HostTerminal.Open(consoleSocket ?? throw new ClearOciException(ErrorCode.InvalidArgument, "a terminal needs --console-socket"),
                (ushort)(process.ConsoleSize?.Height ?? 0), (ushort)(process.ConsoleSize?.Width ?? 0))
            : null;
        if (terminal != null) (input, output, error) = (terminal.Input, terminal.Output, terminal.Output);
        terminal?.FollowSize((rows, cols) => Agent.RequestAsync(new ResizeTerminal { ContainerId = Id, ExecId = execId, Rows = rows, Cols = cols }));
        uint first = (uint)Interlocked.Add(ref _nextStream, 3);
        var streams = new StdioStreams { Stdin = first, Stdout = first + 1, Stderr = first + 2 };
        var drained = Task.WhenAll(Agent.AttachOutput(streams.Stdout, output), Agent.AttachOutput(streams.Stderr, error));
        var exited = Agent.WaitExitAsync(Id, execId);
        await Agent.RequestAsync(new ExecProcess { ContainerId = Id, ExecId = execId, ProcessJson = processJson, Stdio = streams }).ConfigureAwait(false);
        DebugLog.Write($"exec {execId} started");
        onStarted();
        using var inputDone = new CancellationTokenSource();
        _ = PumpInputAsync(input, streams.Stdin, inputDone.Token);
        var result = await exited.ConfigureAwait(false);
        inputDone.Cancel(); // the caller's stdin is theirs again: read nothing more from it
        await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        return result.Status;
    }

    /// <summary>New limits for the container's cgroup in the guest.</summary>
    public Task UpdateAsync(string resourcesJson) =>
        Agent.RequestAsync(new UpdateResources { ContainerId = Id, ResourcesJson = resourcesJson });

    public async Task<ContainerStats> StatsAsync() =>
        (await Agent.RequestAsync(new GetStats { ContainerId = Id }).ConfigureAwait(false)).Stats
        ?? throw new ClearOciException(ErrorCode.Agent, "the guest sent no stats");

    /// <summary>Signals the container's process, or with <paramref name="execId"/> one of its exec'd processes.</summary>
    public Task SignalAsync(int signal, string execId = "") => Agent.RequestAsync(new SignalProcess { ContainerId = Id, ExecId = execId, Signal = signal });

    /// <summary>
    /// Freezes every process of the container with its cgroup's freezer in the guest, as runc
    /// pauses a container; the VM runs on, so its agent still answers (update, stats, kill and
    /// delete --force of a paused container work, as with runc). The same for a pod's containers.
    /// </summary>
    public Task PauseAsync() => Freeze(true);

    public Task ResumeAsync() => Freeze(false);

    private Task Freeze(bool frozen) => Agent.RequestAsync(new FreezeContainer { ContainerId = Id, Frozen = frozen });

    /// <summary>Waits for the process to exit and its output to drain, then powers the VM off. Returns the exit code.</summary>
    public async Task<int> WaitAsync()
    {
        ProcessExited result;
        try { result = await Exited.ConfigureAwait(false); }
        catch (ClearOciException e) when (e.Code == ErrorCode.Agent)
        {
            // The VM ended under the container (QEMU or a virtiofsd died, or the guest crashed): its
            // processes are gone, as if SIGKILLed; what is left of the VM goes with the sandbox.
            DebugLog.Write($"the container's VM ended: {Vm.HelperDied ?? e.Message}");
            return 128 + 9;
        }
        DebugLog.Write($"container exited with status {result.Status}");
        await Task.WhenAny(_outputDone, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        if (_pod != null) return result.Status; // a pod's later container: the VM is the first one's
        if (BeforePowerOff != null) await BeforePowerOff().ConfigureAwait(false);
        await _link!.PowerOffAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        DebugLog.Write("VM powered off");
        return result.Status;
    }

    private async Task PumpInputAsync(Stream? input, uint stream, CancellationToken ct = default)
    {
        try
        {
            if (input != null)
            {
                byte[] buffer = new byte[IoChannel.MaxChunk];
                int n;
                while ((n = await input.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    await Agent.SendInputAsync(stream, buffer.AsMemory(0, n)).ConfigureAwait(false);
            }
            await Agent.SendInputEofAsync(stream).ConfigureAwait(false);
        }
        catch (Exception) { /* the VM went away first */ }
    }

    public async ValueTask DisposeAsync()
    {
        if (_pod != null)
        {
            LeavePod();
            _terminal?.Dispose();
            return;
        }
        _dns?.Dispose();
        _link?.Dispose(); // the agent link first, then the VM
        await Vm.DisposeAsync().ConfigureAwait(false);
        _network?.Dispose();
        _terminal?.Dispose();
    }
}
