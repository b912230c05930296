using ClearOci.Native;
using ClearOci.Protocol;

namespace ClearOci.Agent;

/// <summary>PID 1 of the guest: mounts the basics, opens the host channels, serves, powers off.</summary>
internal static class GuestBoot
{
    /// <summary>Kernel argument of a boot with no host: the agent reports ready and powers off.</summary>
    public const string BareFlag = "clearoci.bare=1";

    public static void Run()
    {
        long startNs = Libc.BootTimeNs();
        // The agent blocks threads in reads of ports and pipes; with one vCPU the pool would start
        // with one thread and add more only every half second or so.
        ThreadPool.SetMinThreads(32, 32);
        try
        {
            MountBasics();
            if (File.ReadAllText("/proc/cmdline").Split(' ', StringSplitOptions.TrimEntries).Contains(BareFlag))
            {
                // The benchmark floor: kernel and agent start, nothing else.
                Log($"bare boot ready: kernel to agent {startNs / 1_000_000} ms, agent ready after {(Libc.BootTimeNs() - startNs) / 1_000_000} ms");
                PowerOff();
            }
            // The image's /etc is empty and read-only: the guest's own is made afresh at each boot.
            try { GuestEtc.MountDefaults(); }
            catch (Exception e) { Log($"guest /etc: {e.Message}"); }
            var (control, io) = OpenChannels();
            var service = new AgentService(control, io, startNs);
            service.RunAsync().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Log($"fatal: {e.Message}");
        }
        PowerOff();
    }

    public static void Log(string message)
    {
        try { File.AppendAllText("/dev/kmsg", $"<3>clearoci-agent: {message}\n"); }
        catch { Console.Error.WriteLine($"clearoci-agent: {message}"); }
    }

    private static void MountBasics()
    {
        TryMount("proc", "/proc", "proc", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null);
        TryMount("sysfs", "/sys", "sysfs", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null);
        TryMount("devtmpfs", "/dev", "devtmpfs", Libc.MS_NOSUID, "mode=0755");
        TryMount("tmpfs", "/run", "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV, "mode=0755");
        TryMount("tmpfs", "/tmp", "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV, "mode=1777");
        Libc.MkdirAll("/dev/pts");
        TryMount("devpts", "/dev/pts", "devpts", Libc.MS_NOSUID | Libc.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
        Libc.MkdirAll("/dev/shm");
        TryMount("shm", "/dev/shm", "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV, "mode=1777");
        GuestCgroup.Mount();
    }

    private static void TryMount(string source, string target, string fstype, ulong flags, string? data)
    {
        Libc.MkdirAll(target);
        if (Libc.mount(source, target, fstype, flags, data) < 0 && Libc.Errno != Libc.EBUSY)
            Log($"mount {fstype} on {target}: {Libc.StrError(Libc.Errno)}");
    }

    /// <summary>
    /// vsock when the kernel command line names the host's ports, else the virtio-serial ports,
    /// found by name (no udev in the guest).
    /// </summary>
    private static (Stream Control, Stream Io) OpenChannels()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? ports = File.ReadAllText("/proc/cmdline").Split(' ', StringSplitOptions.TrimEntries)
            .FirstOrDefault(a => a.StartsWith(ProtocolInfo.VsockKernelArg + "=", StringComparison.Ordinal))?[(ProtocolInfo.VsockKernelArg.Length + 1)..];
        if (ports != null)
        {
            var p = ports.Split(',').Select(uint.Parse).ToArray();
            return (new FdStream(ConnectVsock(p[0], deadline)), new FdStream(ConnectVsock(p[1], deadline)));
        }
        while (true)
        {
            string? control = FindPort(ProtocolInfo.ControlPortName), io = FindPort(ProtocolInfo.IoPortName);
            if (control != null && io != null && File.Exists(control) && File.Exists(io))
                return (FdStream.Open(control), FdStream.Open(io));
            if (DateTime.UtcNow > deadline) throw new IOException("virtio-serial ports not found");
            Thread.Sleep(5);
        }
    }

    private static int ConnectVsock(uint port, DateTime deadline)
    {
        while (true)
        {
            try { return Vsock.Connect(Vsock.CidHost, port); }
            catch (ClearOciException) when (DateTime.UtcNow < deadline) { Thread.Sleep(10); }
        }
    }

    private static string? FindPort(string name)
    {
        const string dir = "/sys/class/virtio-ports";
        if (!Directory.Exists(dir)) return null;
        foreach (var port in Directory.GetDirectories(dir))
        {
            string nameFile = Path.Combine(port, "name");
            if (File.Exists(nameFile) && File.ReadAllText(nameFile).Trim() == name)
                return "/dev/" + Path.GetFileName(port);
        }
        return null;
    }

    public static void PowerOff()
    {
        Libc.sync();
        Libc.reboot(Libc.RB_POWER_OFF);
        Libc.reboot(Libc.RB_AUTOBOOT);
        while (true) Thread.Sleep(1000); // PID 1 must never return
    }
}
