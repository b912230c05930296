using System.Diagnostics;
using System.Net.Sockets;
using ClearOci.Native;
using ClearOci.Protocol;
using ClearOci.Spec;

namespace ClearOci.Vmm;

/// <summary>What a VM needs to start: its name, private directory, assets and shares.</summary>
public sealed record VmOptions
{
    public required string Name { get; init; }
    /// <summary>A private directory for sockets and logs; it must exist and is not removed here.</summary>
    public required string RuntimeDir { get; init; }
    public required GuestAssets Assets { get; init; }
    public required HostInfo Host { get; init; }
    public IReadOnlyList<SharedDirectory> Shares { get; init; } = [];
    /// <summary>Open tap fds (the caller's, not closed here) and the MACs of their guest NICs.</summary>
    public IReadOnlyList<(int Fd, string Mac)> Nics { get; init; } = [];
    public int MemoryMiB { get; init; } = 128;
    public int Vcpus { get; init; } = 1;
    public GuestRoot? Root { get; init; }
    public int TcgCacheMiB { get; init; } = VmSettings.DefaultTcgCacheMiB;
    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromSeconds(90);
}

/// <summary>Host-side timestamps of one boot, with the guest's own (CLOCK_BOOTTIME) ones.</summary>
public sealed record BootTimes(TimeSpan QemuSpawned, TimeSpan HelloReceived, long AgentStartNs, long AgentReadyNs)
{
    /// <summary>Host time from spawning QEMU until the guest kernel's clock started (estimate).</summary>
    public TimeSpan QemuToKernel => HelloReceived - TimeSpan.FromTicks(AgentReadyNs / 100) - QemuSpawned;
    public TimeSpan KernelToAgent => TimeSpan.FromTicks(AgentStartNs / 100);
    public TimeSpan AgentStartToReady => TimeSpan.FromTicks((AgentReadyNs - AgentStartNs) / 100);
    public TimeSpan Total => HelloReceived - QemuSpawned;
}

/// <summary>
/// One QEMU process with its virtiofsd helpers and the two agent channels. The runtime owns the
/// channel sockets and hands QEMU pre-connected fds, so nothing polls for a socket to appear and
/// the guest never reads EOF from an unconnected port.
/// </summary>
public sealed class VirtualMachine : IAsyncDisposable
{
    private readonly List<int> _helpers = new();
    private readonly List<Socket> _listeners = new();
    private readonly List<int> _fdsToClose = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _qemuPid;
    private Task<int>? _qemuExit;
    private readonly List<Task<int>> _helperExits = new();
    private bool _disposed;

    private VirtualMachine(VmOptions options) => Options = options;

    public VmOptions Options { get; }
    public AgentClient Agent { get; private set; } = null!;
    public Hello Hello { get; private set; } = null!;
    public BootTimes Boot { get; private set; } = null!;
    public IReadOnlyList<string> QemuArgv { get; private set; } = [];
    public int QemuPid => _qemuPid;
    public IReadOnlyList<int> HelperPids => _helpers;
    public string ConsoleLog => Path.Combine(Options.RuntimeDir, "console.log");
    public string QemuLog => Path.Combine(Options.RuntimeDir, "qemu.log");
    public Task<int> Exited => _qemuExit ?? Task.FromResult(0);

    public static async Task<VirtualMachine> StartAsync(VmOptions o, CancellationToken ct = default)
    {
        var vm = new VirtualMachine(o);
        try
        {
            await vm.BootAsync(ct);
            return vm;
        }
        catch
        {
            await vm.DisposeAsync();
            throw;
        }
    }

    private async Task BootAsync(CancellationToken ct)
    {
        var o = Options;
        var plan = PlanQemu(o, [], ConsoleLog); // refuses a bad setup before anything starts
        var shares = new List<(string Tag, string Socket)>();
        foreach (var share in o.Shares) shares.Add((share.Tag, StartVirtiofsd(share)));

        var (qmpHost, qmpGuest) = Libc.SocketPair();
        var fds = new Dictionary<int, int> { [plan.QmpFd] = qmpGuest };
        int ctlHost = -1, ioHost = -1, vhostFd = -1, ctlListen = -1, ioListen = -1;
        VsockChannel? vsock = null;
        if (o.Host.VhostVsock)
        {
            // vsock: the runtime listens first and QEMU's guest connects, as with the serial ports.
            (vhostFd, uint cid) = Vsock.ClaimGuestCid();
            (ctlListen, uint ctlPort) = Vsock.Listen();
            (ioListen, uint ioPort) = Vsock.Listen();
            _fdsToClose.AddRange([ctlListen, ioListen]);
            vsock = new VsockChannel(6, cid, ctlPort, ioPort);
            fds[vsock.VhostFd] = vhostFd;
        }
        else
        {
            (ctlHost, int ctlGuest) = Libc.SocketPair();
            (ioHost, int ioGuest) = Libc.SocketPair();
            fds[plan.ControlFd] = ctlGuest;
            fds[plan.IoFd] = ioGuest;
        }
        // The taps stay the caller's: QEMU gets duplicates at fixed numbers after the channels.
        var nics = o.Nics.Select((n, i) => new TapNic(FirstNicFd + i, n.Mac)).ToList();
        var config = plan with { Shares = shares, Vsock = vsock, Nics = nics };
        QemuArgv = QemuCommandLine.Build(config);
        int log = Libc.Check(Libc.open(QemuLog, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC | 0x400 /* O_APPEND */, 0x1a4), $"open {QemuLog}");
        int devnull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
        try
        {
            Libc.WriteAll(log, System.Text.Encoding.UTF8.GetBytes(string.Join(' ', QemuArgv.Select(Quote)) + "\n"));
            if (o.Host.Accel == Accel.Tcg)
                Libc.WriteAll(log, System.Text.Encoding.UTF8.GetBytes("warning: /dev/kvm is not usable here; the VM runs under TCG emulation (slow)\n"));
            _qemuPid = Spawner.Spawn(new SpawnOptions
            {
                Path = config.QemuBinary,
                Args = QemuArgv,
                Fds = new Dictionary<int, int>(fds.Concat(o.Nics.Select((n, i) => KeyValuePair.Create(FirstNicFd + i, n.Fd)))) { [0] = devnull, [1] = log, [2] = log },
            });
        }
        finally
        {
            foreach (var fd in fds.Values) Libc.close(fd);
            Libc.close(log); Libc.close(devnull);
        }
        var spawned = _clock.Elapsed;
        _qemuExit = Reaper.WaitAsync(_qemuPid);
        Qmp = new QmpClient(SocketStream(qmpHost));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(o.BootTimeout);
        var hello = vsock is null
            ? ConnectAgentAsync(Task.FromResult<(Stream, Stream)>((SocketStream(ctlHost), SocketStream(ioHost))), timeout.Token)
            : ConnectAgentAsync(Task.Run(() => AcceptVsock(ctlListen, ioListen, vsock.GuestCid, timeout.Token)), timeout.Token);
        var first = await Task.WhenAny(hello, _qemuExit, Task.Delay(Timeout.Infinite, timeout.Token)).ConfigureAwait(false);
        if (first != hello || !hello.IsCompletedSuccessfully)
        {
            ct.ThrowIfCancellationRequested(); // the caller gave up (a signal): not a boot failure
            string why = first == _qemuExit ? $"QEMU exited with status {WaitStatus.ToExitCode(_qemuExit.Result)}"
                : first == hello && hello.IsFaulted ? hello.Exception!.InnerException!.Message
                : $"the guest agent did not answer within {o.BootTimeout.TotalSeconds:0} s";
            throw new ClearOciException(ErrorCode.Agent, $"VM {o.Name} failed to boot: {why}{Tail(QemuLog)}{Tail(ConsoleLog)}");
        }
        Hello = hello.Result;
        // QEMU connected to every virtiofsd long ago (before the guest could run): drop the paths now,
        // so not even a SIGKILL later can leave them behind.
        foreach (var (_, socket) in shares) File.Delete(socket);
        Boot = new BootTimes(spawned, _clock.Elapsed, Hello.AgentStartNs, Hello.AgentReadyNs);
    }

    public QmpClient Qmp { get; private set; } = null!;

    /// <summary>QEMU's fd number of the first tap (past the channel, QMP and vhost-vsock fds).</summary>
    private const int FirstNicFd = 10;

    private async Task<Hello> ConnectAgentAsync(Task<(Stream Control, Stream Io)> channels, CancellationToken ct)
    {
        var (control, io) = await channels.ConfigureAwait(false);
        Agent = new AgentClient(control, io);
        return await Agent.HelloAsync(ct).ConfigureAwait(false);
    }

    private static (Stream, Stream) AcceptVsock(int ctlListen, int ioListen, uint cid, CancellationToken ct)
    {
        int control = Vsock.Accept(ctlListen, cid, ct);
        int io = Vsock.Accept(ioListen, cid, ct);
        return (new FdStream(control), new FdStream(io));
    }

    /// <summary>The QEMU configuration for these options (no I/O; the shares' sockets are given).</summary>
    public static QemuConfig PlanQemu(VmOptions o, IReadOnlyList<(string Tag, string Socket)> shares, string? consoleLog, bool bare = false)
    {
        string qemu = o.Host.Qemu ?? throw new ClearOciException(ErrorCode.Unsupported, "qemu-system-x86_64 not found (apt-get install qemu-system-x86)");
        var root = o.Root ?? (o.Assets.Image != null ? GuestRoot.NvdimmImage : GuestRoot.Initramfs);
        if (root == GuestRoot.NvdimmImage && o.Assets.Image == null) throw new ClearOciException(ErrorCode.Unsupported, $"no guest image in {o.Assets.Directory}");
        if (root == GuestRoot.Initramfs && o.Assets.Initramfs == null) throw new ClearOciException(ErrorCode.Unsupported, $"no initramfs in {o.Assets.Directory}");
        return new QemuConfig
        {
            Name = o.Name,
            QemuBinary = qemu,
            Accel = o.Host.Accel,
            Root = root,
            Vcpus = o.Vcpus,
            MemoryMiB = o.MemoryMiB,
            TcgCacheMiB = o.TcgCacheMiB,
            Kernel = o.Assets.Kernel,
            Image = o.Assets.Image,
            ImageBytes = o.Assets.ImageBytes,
            Initramfs = o.Assets.Initramfs,
            Shares = shares,
            ConsoleLog = consoleLog,
            Bare = bare,
        };
    }

    private static Stream SocketStream(int fd) =>
        new NetworkStream(new Socket(new SafeSocketHandle(fd, true)), ownsSocket: true);

    private string StartVirtiofsd(SharedDirectory share)
    {
        share.PrepareStaging();
        string virtiofsd = Options.Host.Virtiofsd ?? throw new ClearOciException(ErrorCode.Unsupported, "virtiofsd not found (apt-get install qemu-system-x86)");
        // A short path of its own: a unix socket path has 107 bytes at most, and --root can be long.
        // QEMU connects once at start; the path is unlinked when the VM is gone.
        string path = Path.Combine(Path.GetTempPath(), $"clearoci-fs-{Guid.NewGuid():N}.sock"[..28]);
        // Kept open until the VM is gone: disposing a bound unix socket also unlinks its path.
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listeners.Add(listener);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        string logPath = Path.Combine(Options.RuntimeDir, $"virtiofsd-{share.Tag}.log");
        int log = Libc.Check(Libc.open(logPath, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4), $"open {logPath}");
        int devnull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
        try
        {
            // The binds and virtiofsd share a mount namespace of their own, which ends with virtiofsd.
            int pid = NamespaceThread.InPrivateMounts(() =>
            {
                share.MountBinds();
                return Spawner.Spawn(new SpawnOptions
                {
                    Path = virtiofsd,
                    Args = VirtiofsdCommandLine.Build(virtiofsd, share.Staging, 3),
                    Fds = new Dictionary<int, int> { [0] = devnull, [1] = log, [2] = log, [3] = (int)listener.Handle },
                });
            });
            _helpers.Add(pid);
            _helperExits.Add(Reaper.WaitAsync(pid));
        }
        finally { Libc.close(log); Libc.close(devnull); }
        return path;
    }

    private static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_=,./:+".Contains(c)) ? arg : $"'{arg}'";

    private static string Tail(string path)
    {
        try
        {
            if (!File.Exists(path)) return "";
            var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).TakeLast(5).ToArray();
            return lines.Length == 0 ? "" : $"\n{Path.GetFileName(path)}: " + string.Join("\n  ", lines);
        }
        catch (IOException) { return ""; }
    }

    /// <summary>Asks the agent to power off, and waits for QEMU to exit; kills it after the grace period.</summary>
    public async Task ShutdownAsync(TimeSpan grace)
    {
        if (_qemuExit is null) return;
        try { await Agent.ShutdownAsync().WaitAsync(grace).ConfigureAwait(false); } catch (Exception) { /* the VM may already be gone */ }
        if (await Task.WhenAny(_qemuExit, Task.Delay(grace)).ConfigureAwait(false) != _qemuExit) Libc.kill(_qemuPid, 9);
        await _qemuExit.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_qemuExit is { IsCompleted: false }) { Libc.kill(_qemuPid, 9); await _qemuExit.ConfigureAwait(false); }
        // virtiofsd exits by itself when its VM disconnects; give it a moment, then make sure.
        var all = Task.WhenAll(_helperExits);
        if (await Task.WhenAny(all, Task.Delay(2000)).ConfigureAwait(false) != all)
            foreach (var pid in _helpers) Libc.kill(pid, 9);
        try { await all.ConfigureAwait(false); } catch (ClearOciException) { }
        Agent?.Dispose();
        Qmp?.Dispose();
        foreach (var l in _listeners) l.Dispose();
        foreach (var fd in _fdsToClose) Libc.close(fd);
    }
}

/// <summary>virtiofsd's argv (pure).</summary>
public static class VirtiofsdCommandLine
{
    public static IReadOnlyList<string> Build(string binary, string sharedDir, int listenFd) =>
    [
        binary, $"--fd={listenFd}", "-o", $"source={sharedDir}", "-o", "cache=auto", "-o", "sandbox=namespace",
        // Each bind is a host mount: announced, the guest gives it its own st_dev (no inode clashes).
        "-o", "announce_submounts",
        // 0 keeps the caller's open-file limit: raising it needs CAP_SYS_RESOURCE, which hosts may lack.
        "--rlimit-nofile=0", "--thread-pool-size=0",
    ];
}
