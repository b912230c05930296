using System.Diagnostics;
using System.Net.Sockets;
using ClearOci.Native;

namespace ClearOci.Vmm;

/// <summary>
/// One QEMU process with its virtiofsd helpers and the host ends of the guest agent's two
/// channels (<see cref="ChannelsAsync"/>; what travels over them is the runtime's business). The
/// runtime owns the channel sockets and hands QEMU pre-connected fds, so nothing polls for a
/// socket to appear and the guest never reads EOF from an unconnected port.
/// </summary>
public sealed class VirtualMachine : IAsyncDisposable
{
    private readonly List<int> _helpers = new();
    private readonly List<Socket> _listeners = new();
    private readonly List<int> _fdsToClose = new();
    private int _qemuPid;
    private Task<int>? _qemuExit;
    private readonly List<Task<int>> _helperExits = new();
    /// <summary>The threads QEMU and each virtiofsd were spawned from: their children die with them, so with this process.</summary>
    private readonly List<OwnerThread> _owners = new();
    private readonly List<(string Tag, string Socket)> _shareSockets = new();
    private readonly List<Stream> _channelStreams = new();
    private GuestChannels? _channels; // over the socketpairs; null: over vsock, accepted on demand
    private (int Control, int Io, uint Cid) _vsockListen;
    private bool _disposed;

    private VirtualMachine(VmOptions options) => Options = options;

    public VmOptions Options { get; }
    /// <summary>When QEMU was spawned (a <see cref="Stopwatch"/> timestamp): the start of the boot.</summary>
    public long QemuSpawnedAt { get; private set; }
    public IReadOnlyList<string> QemuArgv { get; private set; } = [];
    public int QemuPid => _qemuPid;
    public IReadOnlyList<int> HelperPids => _helpers;
    public string ConsoleLog => Path.Combine(Options.RuntimeDir, "console.log");
    public string QemuLog => Path.Combine(Options.RuntimeDir, "qemu.log");
    public Task<int> Exited => _qemuExit ?? Task.FromResult(0);

    /// <summary>
    /// Starts the virtiofsd helpers and QEMU, and returns once QEMU is spawned: the guest boots
    /// from then on, and is up when its agent speaks on <see cref="ChannelsAsync"/>.
    /// </summary>
    public static async Task<VirtualMachine> StartAsync(VmOptions o)
    {
        var vm = new VirtualMachine(o);
        try
        {
            vm.Spawn();
            return vm;
        }
        catch
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void Spawn()
    {
        var o = Options;
        var plan = PlanQemu(o, [], ConsoleLog); // refuses a bad setup before anything starts
        foreach (var share in o.Shares) _shareSockets.Add((share.Tag, StartVirtiofsd(share)));

        var (qmpHost, qmpGuest) = Libc.SocketPair();
        var fds = new Dictionary<int, int> { [plan.QmpFd] = qmpGuest };
        VsockChannel? vsock = null;
        if (o.Host.VhostVsock)
        {
            // vsock: the runtime listens first and QEMU's guest connects, as with the serial ports.
            (int vhostFd, uint cid) = Vsock.ClaimGuestCid();
            (int ctlListen, uint ctlPort) = Vsock.Listen();
            (int ioListen, uint ioPort) = Vsock.Listen();
            _fdsToClose.AddRange([ctlListen, ioListen]);
            _vsockListen = (ctlListen, ioListen, cid);
            vsock = new VsockChannel(6, cid, ctlPort, ioPort);
            fds[vsock.VhostFd] = vhostFd;
        }
        else
        {
            (int ctlHost, int ctlGuest) = Libc.SocketPair();
            (int ioHost, int ioGuest) = Libc.SocketPair();
            _channels = new GuestChannels(SocketStream(ctlHost), SocketStream(ioHost));
            _channelStreams.AddRange([_channels.Control, _channels.Io]);
            fds[plan.ControlFd] = ctlGuest;
            fds[plan.IoFd] = ioGuest;
        }
        // The taps stay the caller's: QEMU gets duplicates at fixed numbers after the channels.
        var nics = o.Nics.Select((n, i) => new TapNic(FirstNicFd + i, n.Mac)).ToList();
        var config = plan with { Shares = _shareSockets, Vsock = vsock, Nics = nics };
        QemuArgv = QemuCommandLine.Build(config);
        int log = Libc.Check(Libc.open(QemuLog, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC | 0x400 /* O_APPEND */, 0x1a4), $"open {QemuLog}");
        int devnull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
        try
        {
            Libc.WriteAll(log, System.Text.Encoding.UTF8.GetBytes(string.Join(' ', QemuArgv.Select(Quote)) + "\n"));
            if (o.Host.Accel == Accel.Tcg)
                Libc.WriteAll(log, System.Text.Encoding.UTF8.GetBytes("warning: /dev/kvm is not usable here; the VM runs under TCG emulation (slow)\n"));
            var owner = new OwnerThread($"qemu {o.Name}");
            _owners.Add(owner);
            _qemuPid = owner.Spawn(new SpawnOptions
            {
                Path = config.QemuBinary,
                Args = QemuArgv,
                WorkingDirectory = o.RuntimeDir, // the shares' sockets are named relative to it
                Fds = new Dictionary<int, int>(fds.Concat(o.Nics.Select((n, i) => KeyValuePair.Create(FirstNicFd + i, n.Fd)))) { [0] = devnull, [1] = log, [2] = log },
            });
        }
        finally
        {
            foreach (var fd in fds.Values) Libc.close(fd);
            Libc.close(log); Libc.close(devnull);
        }
        QemuSpawnedAt = Stopwatch.GetTimestamp();
        _qemuExit = Reaper.WaitAsync(_qemuPid);
        Qmp = new QmpClient(SocketStream(qmpHost));
        _ = EndWithTheHelpersAsync();
    }

    /// <summary>Set when a virtiofsd died while the VM ran (and the VM was stopped for it).</summary>
    public string? HelperDied { get; private set; }

    /// <summary>
    /// A virtiofsd that dies while the VM runs leaves the guest without its root filesystem: the
    /// VM is stopped (QEMU killed), so the container ends as it does when QEMU itself dies.
    /// </summary>
    private async Task EndWithTheHelpersAsync()
    {
        if (_helperExits.Count == 0) return;
        var first = await Task.WhenAny(_helperExits).ConfigureAwait(false);
        if (_disposed || _qemuExit is not { IsCompleted: false }) return; // the VM went first: virtiofsd follows it
        int i = _helperExits.IndexOf(first);
        string status = first.IsCompletedSuccessfully ? $"exit status {WaitStatus.ToExitCode(first.Result)}" : "an unknown status";
        HelperDied = $"virtiofsd (pid {_helpers[i]}, share {Options.Shares[i].Tag}) ended with {status}";
        try { File.AppendAllText(QemuLog, $"clearoci: {HelperDied}; stopping the VM\n"); } catch (IOException) { }
        Libc.kill(_qemuPid, 9);
    }

    /// <summary>
    /// The host ends of the agent's control and io channels: at once over the socketpairs; over
    /// vsock once the guest has connected to both ports (cancel to stop waiting). The VM closes
    /// them when it is disposed.
    /// </summary>
    public Task<GuestChannels> ChannelsAsync(CancellationToken ct) =>
        _channels is { } channels ? Task.FromResult(channels) : Task.Run(() => AcceptVsock(ct));

    /// <summary>
    /// Called once the guest runs: QEMU connected to every virtiofsd long ago (before the guest
    /// could run), so the socket paths go now and not even a SIGKILL later can leave them behind.
    /// </summary>
    public void GuestStarted()
    {
        foreach (var (_, socket) in _shareSockets) File.Delete(Path.Combine(Options.RuntimeDir, socket));
    }

    /// <summary>The error for a boot that failed because of <paramref name="why"/>, with the tails of QEMU's log and the console.</summary>
    public ClearOciException BootFailed(string why) =>
        new(ErrorCode.Agent, $"VM {Options.Name} failed to boot: {why}{Tail(QemuLog)}{Tail(ConsoleLog)}");

    public QmpClient Qmp { get; private set; } = null!;

    /// <summary>QEMU's fd number of the first tap (past the channel, QMP and vhost-vsock fds).</summary>
    private const int FirstNicFd = 10;

    private GuestChannels AcceptVsock(CancellationToken ct)
    {
        var (ctlListen, ioListen, cid) = _vsockListen;
        var control = new FdStream(Vsock.Accept(ctlListen, cid, ct));
        lock (_channelStreams) _channelStreams.Add(control);
        var io = new FdStream(Vsock.Accept(ioListen, cid, ct));
        lock (_channelStreams) _channelStreams.Add(io);
        return new GuestChannels(control, io);
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
            ChannelNames = o.ChannelNames,
            Bare = bare,
        };
    }

    private static Stream SocketStream(int fd) =>
        new NetworkStream(new Socket(new SafeSocketHandle(fd, true)), ownsSocket: true);

    private string StartVirtiofsd(SharedDirectory share)
    {
        share.PrepareStaging();
        string virtiofsd = Options.Host.Virtiofsd ?? throw new ClearOciException(ErrorCode.Unsupported, "virtiofsd not found (apt-get install qemu-system-x86)");
        // In the VM's runtime directory, which `delete` removes whatever ended the VM (a socket in
        // /tmp outlived a supervisor SIGKILLed during the boot). QEMU runs in that directory and
        // connects by the relative name, so a long --root does not hit the 107-byte limit.
        string name = $"vfs-{share.Tag}.sock";
        // Kept open until the VM is gone: disposing a bound unix socket also unlinks its path.
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listeners.Add(listener);
        UnixSocketPath.Use(Path.Combine(Options.RuntimeDir, name), p => { listener.Bind(new UnixDomainSocketEndPoint(p)); return 0; });
        listener.Listen(1);
        string logPath = Path.Combine(Options.RuntimeDir, $"virtiofsd-{share.Tag}.log");
        int log = Libc.Check(Libc.open(logPath, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4), $"open {logPath}");
        int devnull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
        try
        {
            // The binds and virtiofsd share a mount namespace of their own (its owner thread's), which
            // ends with virtiofsd and that thread; virtiofsd dies with the thread, so with this process.
            var owner = new OwnerThread($"virtiofsd {share.Tag}", NamespaceThread.EnterPrivateMounts);
            _owners.Add(owner);
            int pid = owner.Run(() =>
            {
                share.MountBinds();
                return Spawner.Spawn(OwnerThread.WithParentDeathSignal(new SpawnOptions
                {
                    Path = virtiofsd,
                    Args = VirtiofsdCommandLine.Build(virtiofsd, share.Staging, 3),
                    Fds = new Dictionary<int, int> { [0] = devnull, [1] = log, [2] = log, [3] = (int)listener.Handle },
                }));
            });
            _helpers.Add(pid);
            _helperExits.Add(Reaper.WaitAsync(pid));
        }
        finally { Libc.close(log); Libc.close(devnull); }
        return name;
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

    /// <summary>Waits for QEMU to exit (the guest was asked to power off); kills it after the grace period.</summary>
    public async Task WaitExitAsync(TimeSpan grace)
    {
        if (_qemuExit is null) return;
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
        lock (_channelStreams)
            foreach (var stream in _channelStreams) stream.Dispose();
        Qmp?.Dispose();
        foreach (var l in _listeners) l.Dispose();
        foreach (var fd in _fdsToClose) Libc.close(fd);
        foreach (var owner in _owners) owner.Dispose(); // their children are reaped: nothing is left to signal
    }
}
