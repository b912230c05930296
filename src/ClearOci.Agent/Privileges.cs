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
                Libc.Check(Libc.prctl(Libc.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0), $"drop {Capabilities.Names[cap]} from the bounding set");
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
