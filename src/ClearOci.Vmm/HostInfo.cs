using ClearOci.Native;

namespace ClearOci.Vmm;

/// <summary>What this host offers for VMs. Probed once per process; each probe is a few syscalls.</summary>
public sealed record HostInfo
{
    public bool KvmUsable { get; init; }
    public string? KvmError { get; init; }
    public bool VhostVsock { get; init; }
    public string? Qemu { get; init; }
    public string? Virtiofsd { get; init; }
    public string KsmRun { get; init; } = "unavailable";
    /// <summary>CPUs this process may run on, and the host's RAM: the caps of a VM's size.</summary>
    public int Cpus { get; init; } = 1;
    public long MemoryMiB { get; init; } = long.MaxValue;

    public const string DefaultVirtiofsd = "/usr/lib/qemu/virtiofsd";

    /// <summary>Forces the accelerator: "kvm" or "tcg" (an explicit setting wins over the probe).</summary>
    public const string AccelVariable = "CLEAROCI_ACCEL";

    public static HostInfo Probe()
    {
        (bool kvm, string? kvmError) = ProbeKvm(HostConfig.Get(AccelVariable), File.Exists("/proc/cpuinfo") ? ReadCpuFlags() : "");
        return new HostInfo
        {
            KvmUsable = kvm,
            KvmError = kvmError,
            VhostVsock = CanOpen("/dev/vhost-vsock").Ok,
            Qemu = FindOnPath("qemu-system-x86_64"),
            Virtiofsd = File.Exists(DefaultVirtiofsd) ? DefaultVirtiofsd : FindOnPath("virtiofsd"),
            KsmRun = ReadTrim("/sys/kernel/mm/ksm/run") switch { "1" => "running", "0" => "stopped", "2" => "unmerging", _ => "unavailable" },
            Cpus = Environment.ProcessorCount,
            MemoryMiB = ReadMemTotalMiB() ?? long.MaxValue,
        };
    }

    public Accel Accel => KvmUsable ? Accel.Kvm : Accel.Tcg;

    /// <summary>
    /// KVM is used when /dev/kvm opens and the CPU has hardware virtualization (vmx or svm). A
    /// /dev/kvm without them (for example kvm-pvm, which needs a PVM-built guest kernel) fails on
    /// an ordinary guest with "emulation failure", so it does not count.
    /// </summary>
    public static (bool Usable, string? Why) ProbeKvm(string? forced, string cpuFlags)
    {
        if (forced == "tcg") return (false, $"{AccelVariable}=tcg");
        var open = CanOpen("/dev/kvm");
        if (forced == "kvm") return open;
        if (!open.Ok) return open;
        var flags = cpuFlags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!flags.Contains("vmx") && !flags.Contains("svm"))
            return (false, "/dev/kvm exists but the CPU has no vmx/svm (a paravirtual KVM such as kvm-pvm cannot run this guest kernel)");
        return (true, null);
    }

    private static long? ReadMemTotalMiB()
    {
        foreach (var line in File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo") : [])
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal) && long.TryParse(line[9..].Trim().Split(' ')[0], out long kib)) return kib / 1024;
        return null;
    }

    private static string ReadCpuFlags()
    {
        foreach (var line in File.ReadLines("/proc/cpuinfo"))
            if (line.StartsWith("flags", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..];
        return "";
    }

    private static (bool Ok, string? Error) CanOpen(string path)
    {
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0) return (false, $"{path}: {Libc.StrError(Libc.Errno)}");
        Libc.close(fd);
        return (true, null);
    }

    private static string? ReadTrim(string path)
    {
        try { return File.ReadAllText(path).Trim(); } catch (IOException) { return null; } catch (UnauthorizedAccessException) { return null; }
    }

    public static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':').Append("/usr/sbin").Append("/usr/libexec"))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
