using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>
/// The process's privileges, applied as runc applies them, on the thread that will exec (capability
/// sets, keep-caps and no_new_privs belong to a thread): oom_score_adj, rlimits, then
/// <see cref="DropBoundingAndKeepCaps"/>, <see cref="SetIds"/>, <see cref="RaiseFinalSets"/>.
/// </summary>
internal static unsafe class Privileges
{
    public static void SetOomScoreAdj(int? value)
    {
        if (value is not int adj) return;
        try { File.WriteAllText("/proc/self/oom_score_adj", adj.ToString()); }
        catch (IOException e) { throw new ClearOciException(ErrorCode.System, $"set oom_score_adj to {adj}: {e.Message}"); }
    }

    private static readonly Dictionary<string, int> RlimitNumbers = new()
    {
        ["RLIMIT_CPU"] = 0, ["RLIMIT_FSIZE"] = 1, ["RLIMIT_DATA"] = 2, ["RLIMIT_STACK"] = 3, ["RLIMIT_CORE"] = 4,
        ["RLIMIT_RSS"] = 5, ["RLIMIT_NPROC"] = 6, ["RLIMIT_NOFILE"] = 7, ["RLIMIT_MEMLOCK"] = 8, ["RLIMIT_AS"] = 9,
        ["RLIMIT_LOCKS"] = 10, ["RLIMIT_SIGPENDING"] = 11, ["RLIMIT_MSGQUEUE"] = 12, ["RLIMIT_NICE"] = 13,
        ["RLIMIT_RTPRIO"] = 14, ["RLIMIT_RTTIME"] = 15,
    };

    /// <summary>Sets each rlimit (raising a hard limit needs CAP_SYS_RESOURCE: call before the capabilities drop).</summary>
    public static void SetRlimits(IEnumerable<PosixRlimit>? rlimits)
    {
        foreach (var r in rlimits ?? [])
        {
            if (!RlimitNumbers.TryGetValue(r.Type, out int resource))
                throw ClearOciException.Invalid($"unknown rlimit type \"{r.Type}\"");
            var limit = new Libc.Rlimit { Soft = r.Soft, Hard = r.Hard };
            Libc.Check(Libc.prlimit(0, resource, &limit, null), $"setrlimit {r.Type} {r.Soft}/{r.Hard}");
        }
    }

    private static readonly Dictionary<string, uint> SchedPolicies = new()
    {
        ["SCHED_OTHER"] = 0, ["SCHED_FIFO"] = 1, ["SCHED_RR"] = 2, ["SCHED_BATCH"] = 3, ["SCHED_ISO"] = 4, ["SCHED_IDLE"] = 5, ["SCHED_DEADLINE"] = 6,
    };

    private static readonly Dictionary<string, ulong> SchedFlags = new()
    {
        ["SCHED_FLAG_RESET_ON_FORK"] = 0x01, ["SCHED_FLAG_RECLAIM"] = 0x02, ["SCHED_FLAG_DL_OVERRUN"] = 0x04,
        ["SCHED_FLAG_KEEP_POLICY"] = 0x08, ["SCHED_FLAG_KEEP_PARAMS"] = 0x10, ["SCHED_FLAG_UTIL_CLAMP_MIN"] = 0x20,
        ["SCHED_FLAG_UTIL_CLAMP_MAX"] = 0x40,
    };

    private static readonly Dictionary<string, int> IoClasses = new()
    {
        ["IOPRIO_CLASS_RT"] = 1, ["IOPRIO_CLASS_BE"] = 2, ["IOPRIO_CLASS_IDLE"] = 3,
    };

    /// <summary>process.scheduler by sched_setattr (as runc 1.2).</summary>
    public static void SetScheduler(Scheduler? s)
    {
        if (s is null) return;
        if (!SchedPolicies.TryGetValue(s.Policy, out uint policy)) throw ClearOciException.Invalid($"scheduler: unknown policy \"{s.Policy}\"");
        ulong flags = 0;
        foreach (var f in s.Flags ?? [])
            flags |= SchedFlags.TryGetValue(f, out ulong bit) ? bit : throw ClearOciException.Invalid($"scheduler: unknown flag \"{f}\"");
        var attr = new Libc.SchedAttr
        {
            Policy = policy, Flags = flags, Nice = s.Nice ?? 0, Priority = (uint)(s.Priority ?? 0),
            Runtime = s.Runtime ?? 0, Deadline = s.Deadline ?? 0, Period = s.Period ?? 0,
        };
        Libc.Check(Libc.SchedSetattr(attr), $"sched_setattr {s.Policy}");
    }

    /// <summary>process.ioPriority by ioprio_set (as runc 1.2).</summary>
    public static void SetIoPriority(IoPriority? p)
    {
        if (p is null) return;
        if (!IoClasses.TryGetValue(p.Class, out int ioClass)) throw ClearOciException.Invalid($"ioPriority: unknown class \"{p.Class}\"");
        int level = p.Priority ?? 0;
        if (level is < 0 or > 7) throw ClearOciException.Invalid($"ioPriority: priority {level} is out of range 0-7");
        Libc.Check(Libc.IoprioSet(ioClass, level), $"ioprio_set {p.Class} {level}");
    }

    /// <summary>linux.personality: the execution domain (LINUX or LINUX32); flags are not defined by the spec and ignored, as runc does.</summary>
    public static void SetPersonality(LinuxPersonality? p)
    {
        if (p is null) return;
        ulong persona = p.Domain switch
        {
            "LINUX" => 0,
            "LINUX32" => 0x0008,
            _ => throw ClearOciException.Invalid($"personality: unknown domain \"{p.Domain}\""),
        };
        if (Libc.Personality(persona) < 0) throw Libc.Error($"personality {p.Domain}");
    }

    public static void SetNoNewPrivileges(bool? on)
    {
        if (on == true) Libc.Check(Libc.prctl(Libc.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)");
    }

    /// <summary>The five sets as bit masks. No capabilities object means empty sets (as in runc).</summary>
    public sealed record Sets(ulong Bounding, ulong Effective, ulong Inheritable, ulong Permitted, ulong Ambient)
    {
        public static Sets From(LinuxCapabilities? caps, int lastCap) => new(
            Mask(caps?.Bounding, lastCap), Mask(caps?.Effective, lastCap), Mask(caps?.Inheritable, lastCap),
            Mask(caps?.Permitted, lastCap), Mask(caps?.Ambient, lastCap));

        /// <summary>Names this kernel does not have are ignored, as runc ignores them (with a console note).</summary>
        private static ulong Mask(List<string>? names, int lastCap)
        {
            ulong mask = 0;
            foreach (var name in names ?? [])
            {
                int n = Capabilities.Number(name);
                if (n < 0 || n > lastCap) { StageLog.Write($"ignoring unknown or unavailable capability {name}"); continue; }
                mask |= 1UL << n;
            }
            return mask;
        }
    }

    public static int LastCap()
    {
        try { return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim()); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return Capabilities.Names.Count - 1; }
    }

    /// <summary>Drops every capability outside the bounding set, and keeps the permitted set across setuid.</summary>
    public static void DropBoundingAndKeepCaps(Sets sets, int lastCap)
    {
        for (int cap = 0; cap <= lastCap; cap++)
            if ((sets.Bounding & (1UL << cap)) == 0)
                if (Libc.prctl(Libc.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0) < 0)
                    // A kernel newer than our table may know more capabilities than it names.
                    throw Libc.Error($"drop {(cap < Capabilities.Names.Count ? Capabilities.Names[cap] : $"capability {cap}")} from the bounding set");
        Libc.Check(Libc.prctl(Libc.PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)");
    }

    /// <summary>Supplementary groups, gid, uid (in that order: each needs the privilege the next one drops).</summary>
    public static void SetIds(Credentials c, uint? umask)
    {
        var groups = c.Groups.ToArray();
        fixed (uint* g = groups) Libc.Check(Libc.setgroups(groups.Length, g), "setgroups");
        Libc.Check(Libc.setresgid(c.Gid, c.Gid, c.Gid), $"setgid {c.Gid}");
        Libc.Check(Libc.setresuid(c.Uid, c.Uid, c.Uid), $"setuid {c.Uid}");
        if (umask is uint mask) Libc.umask((int)mask);
    }

    /// <summary>Clears keep-caps, sets effective, permitted and inheritable, then raises the ambient ones.</summary>
    public static void RaiseFinalSets(Sets sets, int lastCap)
    {
        Libc.Check(Libc.prctl(Libc.PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl(PR_SET_KEEPCAPS, 0)");
        try { Libc.CapSet(sets.Effective, sets.Permitted, sets.Inheritable); }
        catch (ClearOciException e)
        {
            throw e.WithContext("apply the capabilities (effective must be within permitted, inheritable within bounding)");
        }
        for (int cap = 0; cap <= lastCap; cap++)
        {
            if ((sets.Ambient & (1UL << cap)) == 0) continue;
            // runc goes on without an ambient capability the kernel refuses (one outside inheritable).
            if (Libc.prctl(Libc.PR_CAP_AMBIENT, Libc.PR_CAP_AMBIENT_RAISE, (nuint)cap, 0, 0) < 0)
                StageLog.Write($"ambient {Capabilities.Names[cap]} not raised (it must be in both the permitted and inheritable sets): {Libc.StrError(Libc.Errno)}");
        }
    }
}
