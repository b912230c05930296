using System.Globalization;
using ClearOci.Spec;

namespace ClearOci.Seccomp;

/// <summary>
/// Compiles an OCI (libseccomp-named) profile to a classic BPF seccomp filter. Pure: no I/O.
/// Layout: the audit arch picks an ABI section (x86_64, x32, i386; any other arch gets
/// <see cref="BadArchAction"/>); in each, a binary search over the syscall number (ranges of
/// neighbouring numbers with one verdict merged) ends in a return, or in a shared block that
/// tries the syscall's argument rules in order and falls back to the default action.
/// </summary>
public static class SeccompCompiler
{
    public const uint RetKillThread = 0x00000000, RetKillProcess = 0x80000000, RetTrap = 0x00030000, RetErrno = 0x00050000,
        RetTrace = 0x7ff00000, RetLog = 0x7ffc0000, RetAllow = 0x7fff0000;
    public const uint FlagTsync = 1, FlagLog = 2, FlagSpecAllow = 4;

    /// <summary>What a syscall of an ABI the profile does not list gets (libseccomp's default bad-arch action is a kill too).</summary>
    public const uint BadArchAction = RetKillProcess;

    private const int Eperm = 1, MaxErrno = 4095;
    private const string At = "$.linux.seccomp";

    /// <summary>The actions compiled (SCMP_ACT_NOTIFY is refused: no seccomp agent in the guest).</summary>
    public static IReadOnlyList<string> Actions { get; } =
        ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"];

    public static IReadOnlyList<string> Operators { get; } =
        ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];

    public static IReadOnlyList<string> Flags { get; } =
        ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"];

    /// <summary>The architectures whose syscalls the filter dispatches on (the others are accepted and can never occur).</summary>
    public static IReadOnlyList<string> Architectures { get; } = SeccompArch.Supported.Select(a => a.OciName).ToArray();

    /// <summary>Null when the config has no seccomp section.</summary>
    public static SeccompFilter? Compile(LinuxSeccomp? profile) =>
        profile is null ? null : new SeccompFilter { Program = Bpf.ToBytes(CompileProgram(profile)), Flags = ParseFlags(profile) };

    public static SockFilter[] CompileProgram(LinuxSeccomp profile)
    {
        if (!string.IsNullOrEmpty(profile.ListenerPath))
            throw new ClearOciException(ErrorCode.Unsupported, $"{At}.listenerPath: seccomp user notification (a seccomp agent) is not supported");
        uint defaultAction = ParseAction(profile.DefaultAction, profile.DefaultErrnoRet, $"{At}.defaultAction", $"{At}.defaultErrnoRet");
        var arches = ParseArchitectures(profile.Architectures);
        var rules = ParseRules(profile.Syscalls ?? []);

        var asm = new BpfAssembler();
        var blocks = new Dictionary<string, (BpfAssembler.Label Label, List<Rule> Rules)>(StringComparer.Ordinal);
        var x86_64 = asm.NewLabel();
        var i386 = arches.Contains(SeccompArch.I386) ? asm.NewLabel() : null;
        asm.Load(Bpf.ArchOffset);
        asm.Jump(Bpf.JeqK, SeccompArch.AuditArchX86_64, x86_64, null);
        if (i386 != null) asm.Jump(Bpf.JeqK, SeccompArch.AuditArchI386, i386, null);
        asm.Ret(BadArchAction);

        asm.Mark(x86_64);
        asm.Load(Bpf.NrOffset);
        var x32 = asm.NewLabel();
        asm.Jump(Bpf.JgeK, SyscallTable.X32Bit, x32, null);
        Section(asm, SeccompArch.X86_64, rules, defaultAction, blocks);
        asm.Mark(x32);
        if (arches.Contains(SeccompArch.X32)) Section(asm, SeccompArch.X32, rules, defaultAction, blocks);
        else asm.Ret(BadArchAction);
        if (i386 != null)
        {
            asm.Mark(i386);
            asm.Load(Bpf.NrOffset);
            Section(asm, SeccompArch.I386, rules, defaultAction, blocks);
        }
        foreach (var (label, block) in blocks.Values) RuleBlock(asm, label, block, defaultAction);

        var program = asm.Assemble();
        if (program.Length > Bpf.MaxInstructions)
            throw ClearOciException.Invalid($"{At}: the profile compiles to {program.Length} BPF instructions; the kernel takes at most {Bpf.MaxInstructions}");
        return program;
    }

    private sealed record Condition(uint Index, string Op, ulong Value, ulong ValueTwo);

    private sealed record Rule(string[] Names, uint Action, Condition[] Conditions)
    {
        public string Key => string.Join(",", Conditions.Select(c => $"{c.Index}{c.Op}{c.Value:x}/{c.ValueTwo:x}")) + $"=>{Action:x}";
    }

    private static List<Rule> ParseRules(List<LinuxSyscall> syscalls)
    {
        var rules = new List<Rule>(syscalls.Count);
        for (int i = 0; i < syscalls.Count; i++)
        {
            string at = $"{At}.syscalls[{i}]";
            var syscall = syscalls[i] ?? throw ClearOciException.Invalid($"{at}: expected an object, got null");
            if (syscall.Names is not { Count: > 0 } names)
                throw ClearOciException.Invalid($"{at}.names: missing or empty; expected the names of the system calls");
            uint action = ParseAction(syscall.Action, syscall.ErrnoRet, at + ".action", at + ".errnoRet");
            var args = syscall.Args ?? [];
            var conditions = new Condition[args.Count];
            for (int k = 0; k < args.Count; k++)
            {
                var arg = args[k] ?? throw ClearOciException.Invalid($"{at}.args[{k}]: expected an object, got null");
                if (!Operators.Contains(arg.Op))
                    throw ClearOciException.Invalid($"{at}.args[{k}].op: unknown seccomp operator {Text.Quote(arg.Op)}; expected one of {Text.OneOf(Operators)}");
                if (arg.Index > 5)
                    throw ClearOciException.Invalid($"{at}.args[{k}].index: {arg.Index} is out of range; a system call has arguments 0 to 5");
                conditions[k] = new Condition(arg.Index, arg.Op, arg.Value, arg.ValueTwo ?? 0);
            }
            rules.Add(new Rule(names.ToArray(), action, conditions));
        }
        return rules;
    }

    private static uint ParseAction(string action, uint? errnoRet, string at, string errnoAt)
    {
        if (errnoRet is uint e && action is not ("SCMP_ACT_ERRNO" or "SCMP_ACT_TRACE"))
            throw ClearOciException.Invalid($"{errnoAt}: set for {Text.Quote(action)}; it applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE only");
        if (errnoRet > MaxErrno)
            throw ClearOciException.Invalid($"{errnoAt}: {errnoRet} is not an errno (at most {MaxErrno})");
        uint data = errnoRet ?? Eperm;
        return action switch
        {
            "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => RetKillThread,
            "SCMP_ACT_KILL_PROCESS" => RetKillProcess,
            "SCMP_ACT_TRAP" => RetTrap,
            "SCMP_ACT_ERRNO" => RetErrno | data,
            "SCMP_ACT_TRACE" => RetTrace | data,
            "SCMP_ACT_LOG" => RetLog,
            "SCMP_ACT_ALLOW" => RetAllow,
            "SCMP_ACT_NOTIFY" => throw new ClearOciException(ErrorCode.Unsupported, $"{at}: SCMP_ACT_NOTIFY (seccomp user notification to a seccomp agent) is not supported"),
            _ => throw ClearOciException.Invalid($"{at}: unknown seccomp action {Text.Quote(action)}; expected one of {Text.OneOf(Actions)}"),
        };
    }

    private static HashSet<SeccompArch> ParseArchitectures(List<string>? names)
    {
        // The native ABI is always in the filter, as with libseccomp (seccomp_init adds it).
        var arches = new HashSet<SeccompArch> { SeccompArch.X86_64 };
        for (int i = 0; i < (names?.Count ?? 0); i++)
        {
            string name = names![i];
            if (SeccompArch.Supported.FirstOrDefault(a => a.OciName == name) is { } arch) arches.Add(arch);
            else if (!SeccompArch.Foreign.Contains(name))
                throw ClearOciException.Invalid($"{At}.architectures[{i}]: unknown architecture {Text.Quote(name)}; expected one of {Text.OneOf([.. Architectures, .. SeccompArch.Foreign])}");
        }
        return arches;
    }

    private static uint ParseFlags(LinuxSeccomp profile)
    {
        uint flags = 0;
        var names = profile.Flags ?? [];
        for (int i = 0; i < names.Count; i++)
        {
            flags |= names[i] switch
            {
                "SECCOMP_FILTER_FLAG_TSYNC" => FlagTsync,
                "SECCOMP_FILTER_FLAG_LOG" => FlagLog,
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => FlagSpecAllow,
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => throw new ClearOciException(ErrorCode.Unsupported,
                    $"{At}.flags[{i}]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs seccomp user notification, which is not supported"),
                _ => throw ClearOciException.Invalid($"{At}.flags[{i}]: unknown seccomp flag {Text.Quote(names[i])}; expected one of {Text.OneOf(Flags)}"),
            };
        }
        return flags;
    }

    /// <summary>
    /// The dispatch of one ABI; the accumulator holds the syscall number. Per syscall, as
    /// libseccomp merges rules: the first rule without arguments decides alone; otherwise the
    /// rules with arguments are tried in profile order, and the default action follows.
    /// Names the ABI does not know are skipped (as runc does with names libseccomp cannot resolve).
    /// </summary>
    private static void Section(BpfAssembler asm, SeccompArch arch, List<Rule> rules, uint defaultAction,
        Dictionary<string, (BpfAssembler.Label Label, List<Rule> Rules)> blocks)
    {
        var bySyscall = new SortedDictionary<uint, List<Rule>>();
        foreach (var rule in rules)
        {
            foreach (var name in rule.Names)
            {
                if (!arch.Syscalls.TryGetValue(name, out int nr)) continue;
                if (!bySyscall.TryGetValue((uint)nr, out var list)) bySyscall[(uint)nr] = list = [];
                if (!list.Contains(rule)) list.Add(rule);
            }
        }

        // Ranges of syscall numbers with one verdict: "ret:X" or the key of a rule block.
        var segments = new List<(uint Start, string Key)>();
        void Add(uint start, string key)
        {
            if (segments.Count > 0 && segments[^1].Start == start) segments.RemoveAt(segments.Count - 1);
            if (segments.Count > 0 && segments[^1].Key == key) return;
            segments.Add((start, key));
        }
        string defaultKey = Ret(defaultAction);
        Add(arch.Low, defaultKey);
        foreach (var (nr, list) in bySyscall)
        {
            string key;
            if (list.FirstOrDefault(r => r.Conditions.Length == 0) is { } unconditional) key = Ret(unconditional.Action);
            else
            {
                key = string.Join(";", list.Select(r => r.Key));
                if (!blocks.ContainsKey(key)) blocks[key] = (asm.NewLabel(), list);
            }
            Add(nr, key);
            if (nr < arch.High) Add(nr + 1, defaultKey);
        }
        Tree(asm, segments, 0, segments.Count - 1, blocks);
    }

    private static string Ret(uint action) => "ret:" + action.ToString("x", CultureInfo.InvariantCulture);

    private static void Tree(BpfAssembler asm, List<(uint Start, string Key)> segments, int first, int last,
        Dictionary<string, (BpfAssembler.Label Label, List<Rule> Rules)> blocks)
    {
        if (first == last)
        {
            string key = segments[first].Key;
            if (key.StartsWith("ret:", StringComparison.Ordinal)) asm.Ret(uint.Parse(key.AsSpan(4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            else asm.Goto(blocks[key].Label);
            return;
        }
        int middle = (first + last + 1) / 2;
        var upper = asm.NewLabel();
        asm.Jump(Bpf.JgeK, segments[middle].Start, upper, null);
        Tree(asm, segments, first, middle - 1, blocks);
        asm.Mark(upper);
        Tree(asm, segments, middle, last, blocks);
    }

    /// <summary>The rules of one syscall (all with arguments), first match wins, then the default.</summary>
    private static void RuleBlock(BpfAssembler asm, BpfAssembler.Label label, List<Rule> rules, uint defaultAction)
    {
        asm.Mark(label);
        foreach (var rule in rules)
        {
            var nextRule = asm.NewLabel();
            foreach (var condition in rule.Conditions) Compare(asm, condition, nextRule);
            asm.Ret(rule.Action);
            asm.Mark(nextRule);
        }
        asm.Ret(defaultAction);
    }

    /// <summary>
    /// One 64-bit comparison of an argument, as two 32-bit halves (classic BPF loads 32 bits):
    /// falls through when it holds, jumps to <paramref name="fail"/> when it does not.
    /// </summary>
    private static void Compare(BpfAssembler asm, Condition c, BpfAssembler.Label fail)
    {
        var pass = asm.NewLabel();
        uint hi = Bpf.ArgHighOffset(c.Index), lo = Bpf.ArgLowOffset(c.Index);
        uint vh = (uint)(c.Value >> 32), vl = (uint)c.Value;
        switch (c.Op)
        {
            case "SCMP_CMP_EQ":
                asm.Load(hi); asm.Jump(Bpf.JeqK, vh, null, fail);
                asm.Load(lo); asm.Jump(Bpf.JeqK, vl, null, fail);
                break;
            case "SCMP_CMP_NE":
                asm.Load(hi); asm.Jump(Bpf.JeqK, vh, null, pass);
                asm.Load(lo); asm.Jump(Bpf.JeqK, vl, fail, null);
                break;
            case "SCMP_CMP_GT" or "SCMP_CMP_GE" or "SCMP_CMP_LT" or "SCMP_CMP_LE":
                // A higher high word decides at once (for GT/GE it holds, for LT/LE it fails), a
                // lower one the other way; an equal one leaves it to the low word. LT is "not GE", LE "not GT".
                bool greater = c.Op is "SCMP_CMP_GT" or "SCMP_CMP_GE";
                ushort low = c.Op is "SCMP_CMP_GT" or "SCMP_CMP_LE" ? Bpf.JgtK : Bpf.JgeK;
                var (holds, fails) = greater ? (pass, fail) : (fail, pass);
                asm.Load(hi); asm.Jump(Bpf.JgtK, vh, holds, null); asm.Jump(Bpf.JeqK, vh, null, fails);
                asm.Load(lo); asm.Jump(low, vl, greater ? null : fail, greater ? fail : null);
                break;
            case "SCMP_CMP_MASKED_EQ":
                // value is the mask, valueTwo the datum (libseccomp's order). A zero high mask
                // with a zero high datum always holds: no code for that half.
                uint mh = vh, ml = vl, dh = (uint)(c.ValueTwo >> 32), dl = (uint)c.ValueTwo;
                if (mh != 0 || dh != 0) { asm.Load(hi); asm.And(mh); asm.Jump(Bpf.JeqK, dh, null, fail); }
                asm.Load(lo); asm.And(ml); asm.Jump(Bpf.JeqK, dl, null, fail);
                break;
            default:
                throw new ClearOciException(ErrorCode.Internal, $"seccomp operator {c.Op} passed the check but has no code");
        }
        asm.Mark(pass);
    }
}
