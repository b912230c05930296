using System.CommandLine;
using System.Globalization;
using System.Text;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Cli;

/// <summary>
/// `update --resources -|FILE ID` (containerd, podman), or runc's single-value flags
/// (`--memory 64m --cpu-quota 50000 ...`): new linux.resources, applied live in the guest.
/// </summary>
internal static class UpdateVerb
{
    /// <summary>One runc flag: its name, what it sets, and how its value is read.</summary>
    private sealed record Flag(string Name, string Description, Action<LinuxResources, string, string> Apply)
    {
        public Option<string?> Option { get; } = new(Name) { Description = Description };
    }

    private static readonly Flag[] Flags =
    [
        new("--memory", "memory limit (bytes, or with k/m/g suffix; -1 unlimited)", (r, n, v) => Memory(r).Limit = Bytes(n, v)),
        new("--memory-reservation", "memory reservation (soft limit)", (r, n, v) => Memory(r).Reservation = Bytes(n, v)),
        new("--memory-swap", "memory plus swap limit", (r, n, v) => Memory(r).Swap = Bytes(n, v)),
        new("--kernel-memory", "accepted for runc compatibility (deprecated)", (r, n, v) => Memory(r).Kernel = Bytes(n, v)),
        new("--kernel-memory-tcp", "accepted for runc compatibility (deprecated)", (r, n, v) => Memory(r).KernelTcp = Bytes(n, v)),
        new("--cpu-period", "CPU CFS period in microseconds", (r, n, v) => Cpu(r).Period = Unsigned(n, v)),
        new("--cpu-quota", "CPU CFS quota in microseconds (-1 unlimited)", (r, n, v) => Cpu(r).Quota = Signed(n, v)),
        new("--cpu-share", "CPU shares (relative weight)", (r, n, v) => Cpu(r).Shares = Unsigned(n, v)),
        new("--cpu-rt-period", "CPU realtime period in microseconds", (r, n, v) => Cpu(r).RealtimePeriod = Unsigned(n, v)),
        new("--cpu-rt-runtime", "CPU realtime runtime in microseconds", (r, n, v) => Cpu(r).RealtimeRuntime = Signed(n, v)),
        new("--cpuset-cpus", "CPUs to use (0-3, 0,1)", (r, n, v) => Cpu(r).Cpus = v),
        new("--cpuset-mems", "memory nodes to use (0-3, 0,1)", (r, n, v) => Cpu(r).Mems = v),
        new("--pids-limit", "maximum number of processes (-1 unlimited)", (r, n, v) => (r.Pids ??= new LinuxPids()).Limit = Signed(n, v)),
        new("--blkio-weight", "block IO weight (10-1000)", (r, n, v) => (r.BlockIo ??= new LinuxBlockIo()).Weight = checked((ushort)Unsigned(n, v))),
    ];

    public static Command Build()
    {
        var resources = new Option<string?>("--resources", "-r") { Description = "path to a resources JSON file, or - for stdin" };
        var id = new Argument<string>("container-id");
        var cmd = new Command("update", "update the container's resource limits") { resources, id };
        foreach (var f in Flags) cmd.Options.Add(f.Option);
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            string? source = p.GetValue(resources);
            var given = Flags.Where(f => p.GetValue(f.Option) is not null).ToList();
            byte[] json;
            if (source is not null)
            {
                if (given.Count > 0)
                    throw ClearOciException.Invalid($"update: give either --resources or single-value flags, not both ({given[0].Name})");
                json = source == "-" ? ReadStdin() : ConfigLoader.ReadFile(source);
            }
            else if (given.Count > 0) json = Encoding.UTF8.GetBytes(SpecJson.Serialize(FromFlags(given.Select(f => (f, p.GetValue(f.Option)!)))));
            else throw ClearOciException.Invalid("update needs --resources FILE (or - for stdin), or a flag such as --memory or --cpu-quota");
            LifecycleVerbs.Open(p).Update(p.GetValue(id)!, json, source switch { null => "flags", "-" => "stdin", _ => source });
            return Task.FromResult(0);
        }));
        return cmd;
    }

    /// <summary>The resources the given flags describe (pure).</summary>
    private static LinuxResources FromFlags(IEnumerable<(Flag Flag, string Value)> values)
    {
        var r = new LinuxResources();
        foreach (var (flag, value) in values)
        {
            try { flag.Apply(r, flag.Name, value); }
            catch (OverflowException) { throw ClearOciException.Invalid($"{flag.Name} {value}: out of range"); }
        }
        return r;
    }

    private static LinuxMemory Memory(LinuxResources r) => r.Memory ??= new LinuxMemory();
    private static LinuxCpu Cpu(LinuxResources r) => r.Cpu ??= new LinuxCpu();

    private static byte[] ReadStdin() => StandardStreams.ReadInput();

    private static long Signed(string name, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)
            ? n : throw ClearOciException.Invalid($"{name} {value}: expected an integer");

    private static ulong Unsigned(string name, string value) =>
        ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n)
            ? n : throw ClearOciException.Invalid($"{name} {value}: expected a non-negative integer");

    /// <summary>runc's RAM sizes: -1, or a number with an optional binary unit (k, m, g, t, p; "b"/"ib" allowed after it).</summary>
    internal static long Bytes(string name, string value)
    {
        if (value == "-1") return -1;
        string v = value.Trim().ToLowerInvariant();
        if (v.EndsWith("ib")) v = v[..^2];
        else if (v.EndsWith('b')) v = v[..^1];
        int shift = v.Length > 0 ? v[^1] switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, 'p' => 50, _ => 0 } : 0;
        if (shift > 0) v = v[..^1];
        if (!decimal.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal n) || v.Length == 0)
            throw ClearOciException.Invalid($"{name} {value}: expected a size such as 67108864, 64m or 1g (or -1)");
        try { return checked((long)(n * (1L << shift))); }
        catch (OverflowException) { throw ClearOciException.Invalid($"{name} {value}: too large"); }
    }
}
