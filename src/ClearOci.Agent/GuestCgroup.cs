using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>
/// One cgroup v2 group per container in the guest, holding its init and exec'd processes, with
/// linux.resources applied (memory, cpu, pids); `update` rewrites them live. The VM itself is
/// sized separately; these limits act inside it.
/// </summary>
internal static class GuestCgroup
{
    public const string Root = "/sys/fs/cgroup";

    /// <summary>At boot: the v2 hierarchy with the controllers ClearOci uses delegated to children.</summary>
    public static void Mount()
    {
        ClearOci.Native.Libc.MkdirAll(Root);
        if (ClearOci.Native.Libc.mount("cgroup2", Root, "cgroup2", ClearOci.Native.Libc.MS_NOSUID | ClearOci.Native.Libc.MS_NODEV | ClearOci.Native.Libc.MS_NOEXEC, null) < 0)
        {
            GuestBoot.Log($"mount cgroup2: {ClearOci.Native.Libc.StrError(ClearOci.Native.Libc.Errno)}");
            return;
        }
        foreach (var controller in (string[])["memory", "pids", "cpu"])
        {
            try { File.WriteAllText(Path.Combine(Root, "cgroup.subtree_control"), "+" + controller); }
            catch (IOException e) { GuestBoot.Log($"cgroup controller {controller}: {e.Message}"); }
        }
    }

    public static string PathOf(string id) => Path.Combine(Root, "clearoci", id);

    /// <summary>
    /// Device rules need a devices controller: cgroup v2 has none (it takes a BPF program, and
    /// this guest kernel has no cgroup BPF), so the v1 controller is mounted beside the v2
    /// hierarchy, as on a hybrid host, and each container gets a group there too.
    /// </summary>
    public const string DevicesRoot = "/run/clearoci-devices";

    private static string DevicesPathOf(string id) => Path.Combine(DevicesRoot, id);

    /// <summary>
    /// The container's device rules (linux.resources.devices, then the defaults runc allows) on a
    /// group of its own; none when the config sets no rule. Its processes join with <see cref="JoinDevices"/>.
    /// </summary>
    public static void CreateDevices(string id, OciSpec spec)
    {
        var lines = DeviceCgroupRules.For(spec);
        if (lines.Count == 0) return;
        MountDevices();
        Directory.CreateDirectory(DevicesPathOf(id));
        foreach (var (file, line) in lines)
        {
            try { File.WriteAllText(Path.Combine(DevicesPathOf(id), file), line); }
            catch (IOException e) { throw ClearOciException.Invalid($"linux.resources.devices: cannot apply \"{line}\": {e.Message}"); }
        }
    }

    private static readonly Lock DevicesMount = new();

    /// <summary>
    /// On first use only: once mounted, every process's /proc/self/cgroup lists the v1 hierarchy
    /// too, so a VM whose containers set no device rule shows the pure v2 view.
    /// </summary>
    private static void MountDevices()
    {
        lock (DevicesMount)
        {
            if (File.Exists(Path.Combine(DevicesRoot, DeviceCgroupRules.AllowFile))) return;
            ClearOci.Native.Libc.MkdirAll(DevicesRoot);
            if (ClearOci.Native.Libc.mount("cgroup", DevicesRoot, "cgroup", ClearOci.Native.Libc.MS_NOSUID | ClearOci.Native.Libc.MS_NODEV | ClearOci.Native.Libc.MS_NOEXEC, "devices") < 0)
                throw new ClearOciException(ErrorCode.Unsupported, $"linux.resources.devices: mount the guest's devices cgroup: {ClearOci.Native.Libc.StrError(ClearOci.Native.Libc.Errno)}");
        }
    }

    /// <summary>Moves <paramref name="pid"/> into the container's devices group, if it has one.</summary>
    public static void JoinDevices(string id, int pid)
    {
        string procs = Path.Combine(DevicesPathOf(id), "cgroup.procs");
        if (!File.Exists(procs)) return;
        try { File.WriteAllText(procs, pid.ToString()); }
        catch (IOException e) { throw new ClearOciException(ErrorCode.System, $"join the devices cgroup of {id}: {e.Message}"); }
    }

    public static void Create(string id)
    {
        Directory.CreateDirectory(Path.Combine(Root, "clearoci"));
        try { File.WriteAllText(Path.Combine(Root, "clearoci", "cgroup.subtree_control"), "+memory +pids +cpu"); } catch (IOException) { }
        Directory.CreateDirectory(PathOf(id));
    }

    /// <summary>
    /// The group's cgroup.procs, for the init stage to join as its last step before exec: the
    /// stage's own start-up (its runtime's threads) never counts against the container's limits.
    /// </summary>
    public static int OpenProcs(string id) =>
        ClearOci.Native.Libc.Check(ClearOci.Native.Libc.open(Path.Combine(PathOf(id), "cgroup.procs"), ClearOci.Native.Libc.O_WRONLY | ClearOci.Native.Libc.O_CLOEXEC, 0), $"open the cgroup of {id}");

    /// <summary>The oom_kill counter of a memory.events file (0 if it cannot be read).</summary>
    public static long OomKills(string memoryEvents)
    {
        try
        {
            foreach (var line in File.ReadLines(memoryEvents))
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(9), out long n)) return n;
        }
        catch (IOException) { }
        return 0;
    }

    /// <summary>
    /// cgroup v2's freezer: writes cgroup.freeze and waits (at most 10 s) until cgroup.events
    /// says the whole group is frozen (thawed); a task in uninterruptible sleep delays it. The
    /// kernel notifies inotify watchers of cgroup.events when it changes, so the wait wakes at
    /// once (a 5 ms poll made `pause` cost about 80 ms under TCG); every 100 ms it looks anyway.
    /// </summary>
    public static Task FreezeAsync(string id, bool frozen) => Task.Factory.StartNew(() =>
    {
        string want = frozen ? "frozen 1" : "frozen 0";
        string events = Path.Combine(PathOf(id), "cgroup.events");
        int fd = Libc.inotify_init1(Libc.O_CLOEXEC);
        if (fd >= 0 && Libc.inotify_add_watch(fd, events, Libc.IN_MODIFY) < 0)
        {
            Libc.close(fd);
            fd = -1;
        }
        try
        {
            try { File.WriteAllText(Path.Combine(PathOf(id), "cgroup.freeze"), frozen ? "1" : "0"); }
            catch (IOException e) { throw new ClearOciException(ErrorCode.System, $"cgroup.freeze of {id}: {e.Message}"); }
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            byte[] drain = new byte[256];
            while (!File.ReadAllText(events).Contains(want, StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline)
                    throw new ClearOciException(ErrorCode.System, $"the processes of {id} did not {(frozen ? "freeze" : "thaw")} within 10 s");
                if (fd < 0) Thread.Sleep(5);
                else if (Libc.WaitReadable(fd, 100)) Libc.Read(fd, drain);
            }
        }
        finally { if (fd >= 0) Libc.close(fd); }
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static void Remove(string id)
    {
        try { Directory.Delete(PathOf(id)); } catch (IOException) { }
        try { if (Directory.Exists(DevicesPathOf(id))) Directory.Delete(DevicesPathOf(id)); } catch (IOException) { }
    }

    /// <summary>Writes every limit <paramref name="r"/> sets (v1 semantics in the OCI spec, mapped to v2 files).</summary>
    public static void Apply(string id, LinuxResources? r)
    {
        if (r is null) return;
        foreach (var (file, value) in Settings(r))
        {
            string path = Path.Combine(PathOf(id), file);
            // A limit this guest kernel has no file for (swap: the guest has none) does not apply.
            if (!File.Exists(path)) { GuestBoot.Log($"{id}: {file} not available in the guest; skipped"); continue; }
            try { File.WriteAllText(path, value); }
            catch (IOException e) { throw new ClearOciException(ErrorCode.InvalidArgument, $"cannot set {file} to {value}: {e.Message}"); }
        }
    }

    /// <summary>The cgroup v2 files and values for a resources object (pure).</summary>
    public static IEnumerable<(string File, string Value)> Settings(LinuxResources r)
    {
        if (r.Memory?.Limit is long limit and not 0)
        {
            yield return ("memory.max", limit < 0 ? "max" : limit.ToString());
            // OCI (v1) swap is memory+swap; v2 counts swap alone.
            if (r.Memory.Swap is long swap and not 0)
                yield return ("memory.swap.max", swap < 0 || limit < 0 ? "max" : Math.Max(0, swap - limit).ToString());
        }
        if (r.Cpu is { } cpu)
        {
            if (cpu.Quota is long quota and not 0 || cpu.Period is ulong and not 0)
            {
                ulong period = cpu.Period is ulong p and > 0 ? p : 100000;
                yield return ("cpu.max", $"{(cpu.Quota is long q and > 0 ? q.ToString() : "max")} {period}");
            }
            if (cpu.Shares is ulong shares and > 0)
                yield return ("cpu.weight", (1 + (Math.Clamp(shares, 2UL, 262144UL) - 2) * 9999 / 262142).ToString());
        }
        if (r.Pids?.Limit is long pidsLimit and not 0)
            yield return ("pids.max", pidsLimit < 0 ? "max" : pidsLimit.ToString());
    }
}
