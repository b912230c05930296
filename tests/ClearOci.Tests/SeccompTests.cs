using System.Text.Json;
using ClearOci.Client;
using ClearOci.Seccomp;
using ClearOci.Spec;

namespace ClearOci.Tests;

/// <summary>
/// SeccompCompiler: golden programs for small profiles (spec-fixtures/seccomp, NAME.json compiled
/// to NAME.bpf, one instruction per line), the engines' default profiles, and the verdicts of the
/// compiled programs run by an independent BPF interpreter against a direct reading of the
/// profile, for every syscall of every ABI. Regenerate goldens with:
/// UPDATE_GOLDEN=1 dotnet test tests/ClearOci.Tests --filter SeccompTests
/// </summary>
public class SeccompTests
{
    private const uint Allow = 0x7fff0000, Errno = 0x00050000, KillProcess = 0x80000000, KillThread = 0, Trap = 0x00030000,
        Trace = 0x7ff00000, Log = 0x7ffc0000;
    private const int X32Bit = 0x40000000;

    private static string Fixtures => Path.Combine(Repo.Root, "spec-fixtures", "seccomp");

    private static LinuxSeccomp Profile(string json) =>
        JsonSerializer.Deserialize(json, SpecJsonContext.Default.LinuxSeccomp) ?? throw new InvalidOperationException("null profile");

    private static LinuxSeccomp Fixture(string name) => Profile(File.ReadAllText(Path.Combine(Fixtures, name + ".json")));

    private static LinuxSeccomp Sample(string file)
    {
        var spec = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(Repo.Root, "spec-fixtures", "configs", "valid", file)), SpecJsonContext.Default.OciSpec);
        return spec?.Linux?.Seccomp ?? throw new InvalidOperationException($"{file} has no seccomp profile");
    }

    private static SockFilter[] Compile(LinuxSeccomp profile)
    {
        var program = SeccompCompiler.CompileProgram(profile);
        SeccompBpf.Check(program);
        return program;
    }

    [TestCase("deny-mkdir")]
    [TestCase("all-operators")]
    public void CompileProgram_SmallProfile_MatchesGoldenFile(string name)
    {
        string got = Bpf.Disassemble(Compile(Fixture(name)));
        string path = Path.Combine(Fixtures, name + ".bpf");
        if (Repo.UpdateGoldens) File.WriteAllText(path, got);
        Assert.That(File.Exists(path), Is.True, $"{path} is missing; create it with UPDATE_GOLDEN=1 and review it");
        Assert.That(got, Is.EqualTo(File.ReadAllText(path)), $"{name}.bpf differs (UPDATE_GOLDEN=1 rewrites the goldens)");
    }

    [TestCase("docker-config.json", 100, 1000)]
    [TestCase("podman-config.json", 100, 1000)]
    public void CompileProgram_EngineDefaultProfile_FitsTheKernelLimit(string file, int minimum, int maximum)
    {
        var program = Compile(Sample(file));
        TestContext.Out.WriteLine($"{file}: {program.Length} instructions");
        Assert.That(program.Length, Is.InRange(minimum, maximum), "three ABIs, each a binary search over ranges of syscall numbers: far below 4096");
        var filter = SeccompCompiler.Compile(Sample(file))!;
        Assert.That(Bpf.FromBytes(filter.Program), Is.EqualTo(program), "bytes round-trip");
        Assert.That(filter.Flags, Is.Zero);
    }

    [Test]
    public void Docker_KnownSyscalls_GetTheProfilesVerdicts()
    {
        var p = Compile(Sample("docker-config.json"));
        uint Run(uint arch, int nr, params ulong[] args) => SeccompBpf.Run(p, new SeccompData(arch, nr, args));
        const uint eperm = Errno | 1;
        Assert.Multiple(() =>
        {
            Assert.That(Run(SeccompData.X86_64, 39), Is.EqualTo(Allow), "getpid");
            Assert.That(Run(SeccompData.X86_64, 165), Is.EqualTo(eperm), "mount: not in the profile without CAP_SYS_ADMIN");
            Assert.That(Run(SeccompData.X86_64, 272), Is.EqualTo(eperm), "unshare");
            Assert.That(Run(SeccompData.X86_64, 135, 0), Is.EqualTo(Allow), "personality(PER_LINUX)");
            Assert.That(Run(SeccompData.X86_64, 135, 0xffffffff), Is.EqualTo(Allow), "personality(query)");
            Assert.That(Run(SeccompData.X86_64, 135, 1), Is.EqualTo(eperm), "personality(1)");
            Assert.That(Run(SeccompData.X86_64, 135, 0x1_00000008), Is.EqualTo(eperm), "personality: all 64 bits compared");
            Assert.That(Run(SeccompData.X86_64, 56, 17 /* SIGCHLD */), Is.EqualTo(Allow), "clone without namespace flags");
            Assert.That(Run(SeccompData.X86_64, 56, 0x20000 | 17), Is.EqualTo(eperm), "clone(CLONE_NEWNS)");
            Assert.That(Run(SeccompData.X86_64, 56, 0x10000000), Is.EqualTo(eperm), "clone(CLONE_NEWUSER)");
            Assert.That(Run(SeccompData.X86_64, 435), Is.EqualTo(Errno | 38), "clone3: ENOSYS so libc falls back to clone");
            Assert.That(Run(SeccompData.X86_64, 100_000), Is.EqualTo(eperm), "an unknown number");
            Assert.That(Run(SeccompData.X86_64, -1), Is.EqualTo(eperm), "nr -1 (x32 range, x32 listed): default");
            Assert.That(Run(SeccompData.X86_64, X32Bit | 39), Is.EqualTo(Allow), "x32 getpid");
            Assert.That(Run(SeccompData.X86_64, X32Bit | 165), Is.EqualTo(eperm), "x32 mount");
            Assert.That(Run(SeccompData.I386, 20), Is.EqualTo(Allow), "i386 getpid");
            Assert.That(Run(SeccompData.I386, 136, 8), Is.EqualTo(Allow), "i386 personality(PER_LINUX32)");
            Assert.That(Run(SeccompData.I386, 136, 3), Is.EqualTo(eperm), "i386 personality(3)");
            Assert.That(Run(SeccompData.I386, 21), Is.EqualTo(eperm), "i386 mount");
            Assert.That(Run(SeccompData.Aarch64, 172), Is.EqualTo(KillProcess), "an ABI the profile does not list");
        });
    }

    [Test]
    public void Podman_DefaultErrnoRet_IsTheDefaultVerdict()
    {
        var p = Compile(Sample("podman-config.json"));
        Assert.Multiple(() =>
        {
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 39)), Is.EqualTo(Allow), "getpid");
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 321)), Is.EqualTo(Errno | 1), "bpf: errnoRet 1");
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 248)), Is.EqualTo(Errno | 38), "add_key: defaultErrnoRet 38");
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 100_000)), Is.EqualTo(Errno | 38), "unknown number");
        });
    }

    [Test]
    public void DenyMkdir_OnlyX86_64Listed_KillsOtherAbis()
    {
        var p = Compile(Fixture("deny-mkdir"));
        Assert.Multiple(() =>
        {
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 83)), Is.EqualTo(Errno | 13), "mkdir");
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 258)), Is.EqualTo(Errno | 13), "mkdirat");
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 84)), Is.EqualTo(Allow), "rmdir");
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, X32Bit | 83)), Is.EqualTo(KillProcess), "x32 not listed");
            Assert.That(SeccompBpf.Run(p, new(SeccompData.I386, 39)), Is.EqualTo(KillProcess), "i386 not listed");
        });
    }

    [Test]
    public void AllOperators_EdgeValues_AreComparedAsUnsigned64Bit()
    {
        var p = Compile(Fixture("all-operators"));
        uint Run(int nr, params ulong[] args) => SeccompBpf.Run(p, new SeccompData(SeccompData.X86_64, nr, args));
        Assert.Multiple(() =>
        {
            Assert.That(Run(135, 8), Is.EqualTo(Allow), "EQ");
            Assert.That(Run(135, 0xffffffff), Is.EqualTo(Errno | 38), "EQ miss, GE miss (high word 0)");
            Assert.That(Run(135, 0x1_00000000), Is.EqualTo(Log), "GE at the boundary");
            Assert.That(Run(62, 1, 15), Is.EqualTo(Errno | 1), "kill: LE and NE both hold");
            Assert.That(Run(62, 1, 9), Is.EqualTo(Errno | 38), "kill: NE fails, GT fails, default");
            Assert.That(Run(62, 0x1_00000000, 9), Is.EqualTo(Allow), "kill: GT through the high word");
            Assert.That(Run(8, 0, 0, 2), Is.EqualTo(Trap), "lseek: LT");
            Assert.That(Run(8, 0, 0, 0xffffffff_00000000), Is.EqualTo(Errno | 38), "lseek: LT fails on the high word");
            Assert.That(Run(101), Is.EqualTo(Trace | 7), "ptrace: TRACE with errnoRet as data");
            Assert.That(Run(169), Is.EqualTo(KillProcess), "reboot");
            Assert.That(Run(173), Is.EqualTo(KillThread), "ioperm");
            Assert.That(SeccompBpf.Run(p, new(SeccompData.I386, 102)), Is.EqualTo(Allow), "socketcall exists on i386 only");
        });
        Assert.That(SeccompCompiler.Compile(Fixture("all-operators"))!.Flags, Is.EqualTo(SeccompCompiler.FlagTsync | SeccompCompiler.FlagLog));
    }

    /// <summary>Every syscall of every ABI, with argument values around each rule's constants.</summary>
    [TestCase("docker-config.json")]
    [TestCase("podman-config.json")]
    [TestCase("all-operators")]
    [TestCase("deny-mkdir")]
    public void CompiledProgram_EverySyscall_AgreesWithTheProfile(string source)
    {
        var profile = source.EndsWith(".json", StringComparison.Ordinal) ? Sample(source) : Fixture(source);
        var program = Compile(profile);
        var listed = profile.Architectures ?? [];
        var random = new Random(4);
        var abis = new (string Arch, uint Audit, SyscallEntry[] Table)[]
        {
            ("SCMP_ARCH_X86_64", SeccompData.X86_64, SyscallTable.X86_64),
            ("SCMP_ARCH_X86", SeccompData.I386, SyscallTable.I386),
            ("SCMP_ARCH_X32", SeccompData.X86_64, SyscallTable.X32),
        };
        int checks = 0;
        foreach (var (arch, audit, table) in abis)
        {
            bool present = arch == "SCMP_ARCH_X86_64" || listed.Contains(arch);
            foreach (var (name, nr) in table)
            {
                var constants = (profile.Syscalls ?? []).Where(s => s.Names!.Contains(name))
                    .SelectMany(s => s.Args ?? []).SelectMany(a => new[] { a.Value, a.Value - 1, a.Value + 1, a.ValueTwo ?? 0, a.Value | 17 }).ToList();
                var vectors = new List<ulong[]> { new ulong[6] };
                foreach (var c in constants)
                    for (int i = 0; i < 6; i++) { var v = new ulong[6]; v[i] = c; vectors.Add(v); }
                for (int n = 0; n < 4; n++) vectors.Add(Enumerable.Range(0, 6).Select(_ => (ulong)random.NextInt64() ^ (ulong)random.Next(2) << 63).ToArray());
                foreach (var args in vectors)
                {
                    uint expected = present ? Expected(profile, name, args) : KillProcess;
                    uint got = SeccompBpf.Run(program, new SeccompData(audit, nr, args));
                    if (got != expected)
                        Assert.Fail($"{arch} {name} ({nr}) args [{string.Join(", ", args.Select(a => $"0x{a:x}"))}]: got 0x{got:x}, expected 0x{expected:x}");
                    checks++;
                }
            }
        }
        TestContext.Out.WriteLine($"{checks} verdicts checked");
    }

    /// <summary>The profile read directly, as libseccomp applies it: an unconditional rule decides alone, else the first rule whose arguments all hold.</summary>
    private static uint Expected(LinuxSeccomp profile, string name, ulong[] args)
    {
        var rules = (profile.Syscalls ?? []).Where(s => s.Names!.Contains(name)).ToList();
        var rule = rules.FirstOrDefault(r => r.Args is null or { Count: 0 })
            ?? rules.FirstOrDefault(r => r.Args!.All(a => Holds(a, args[a.Index])));
        return rule is null ? ActionValue(profile.DefaultAction, profile.DefaultErrnoRet) : ActionValue(rule.Action, rule.ErrnoRet);
    }

    private static bool Holds(LinuxSeccompArg a, ulong x) => a.Op switch
    {
        "SCMP_CMP_EQ" => x == a.Value,
        "SCMP_CMP_NE" => x != a.Value,
        "SCMP_CMP_LT" => x < a.Value,
        "SCMP_CMP_LE" => x <= a.Value,
        "SCMP_CMP_GT" => x > a.Value,
        "SCMP_CMP_GE" => x >= a.Value,
        "SCMP_CMP_MASKED_EQ" => (x & a.Value) == (a.ValueTwo ?? 0),
        _ => throw new ArgumentException(a.Op),
    };

    private static uint ActionValue(string action, uint? errnoRet) => action switch
    {
        "SCMP_ACT_ALLOW" => Allow,
        "SCMP_ACT_ERRNO" => Errno | (errnoRet ?? 1),
        "SCMP_ACT_TRACE" => Trace | (errnoRet ?? 1),
        "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => KillThread,
        "SCMP_ACT_KILL_PROCESS" => KillProcess,
        "SCMP_ACT_TRAP" => Trap,
        "SCMP_ACT_LOG" => Log,
        _ => throw new ArgumentException(action),
    };

    [Test]
    public void SyscallTable_KnownNumbers_MatchTheKernelAbi()
    {
        int Nr(SyscallEntry[] t, string name) => t.Single(e => e.Name == name).Number;
        Assert.Multiple(() =>
        {
            Assert.That(Nr(SyscallTable.X86_64, "read"), Is.Zero);
            Assert.That(Nr(SyscallTable.X86_64, "getpid"), Is.EqualTo(39));
            Assert.That(Nr(SyscallTable.X86_64, "clone3"), Is.EqualTo(435));
            Assert.That(Nr(SyscallTable.I386, "getpid"), Is.EqualTo(20));
            Assert.That(Nr(SyscallTable.X32, "getpid"), Is.EqualTo(X32Bit | 39));
            Assert.That(Nr(SyscallTable.X32, "rt_sigaction"), Is.EqualTo(X32Bit | 512));
            Assert.That(SyscallTable.X86_64.Length, Is.GreaterThan(350));
        });
    }

    [TestCase("""{"defaultAction":"SCMP_ACT_FOO"}""", "$.linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_BAR"}]}""", "$.linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_BAR\"")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_XX"}]}]}""", "$.linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_XX\"")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}""", "$.linux.seccomp.syscalls[0].args[0].index: 6 is out of range")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ERRNO"}]}""", "$.linux.seccomp.syscalls[0].names: missing or empty")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":5}""", "$.linux.seccomp.defaultErrnoRet: set for \"SCMP_ACT_ALLOW\"")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000}""", "$.linux.seccomp.defaultErrnoRet: 70000 is not an errno")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_VAX"]}""", "$.linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_VAX\"")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_NOPE"]}""", "$.linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_NOPE\"")]
    public void Compile_InvalidProfile_FailsWithInvalidArgument(string json, string message)
    {
        var e = Assert.Throws<ClearOciException>(() => SeccompCompiler.Compile(Profile(json)));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        Assert.That(e.Message, Does.StartWith(message));
    }

    [TestCase("""{"defaultAction":"SCMP_ACT_NOTIFY"}""", "SCMP_ACT_NOTIFY")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock"}""", "$.linux.seccomp.listenerPath")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}""", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")]
    public void Compile_UserNotification_IsUnsupported(string json, string mention)
    {
        var e = Assert.Throws<ClearOciException>(() => SeccompCompiler.Compile(Profile(json)));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.Unsupported));
        Assert.That(e.Message, Does.Contain(mention).And.Contain("not supported"));
    }

    [Test]
    public void Compile_TooManyRules_IsRefusedWithTheCount()
    {
        var profile = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            Syscalls = Enumerable.Range(0, 1000).Select(i => new LinuxSyscall
            {
                Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [new LinuxSeccompArg { Index = 0, Value = (ulong)i, Op = "SCMP_CMP_EQ" }],
            }).ToList(),
        };
        var e = Assert.Throws<ClearOciException>(() => SeccompCompiler.Compile(profile));
        Assert.That(e!.Message, Does.Match(@"compiles to \d+ BPF instructions; the kernel takes at most 4096"));
    }

    [Test]
    public void Compile_FarJumps_GoThroughTrampolines()
    {
        // 200 argument rules on one syscall push the i386 section beyond a conditional jump's reach (255).
        var profile = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            Syscalls = [.. Enumerable.Range(0, 200).Select(i => new LinuxSyscall
            {
                Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [new LinuxSeccompArg { Index = 0, Value = (ulong)i * 3, Op = "SCMP_CMP_EQ" }],
            }), new LinuxSyscall { Names = ["getpid"], Action = "SCMP_ACT_ALLOW" }],
        };
        var p = Compile(profile);
        Assert.That(p.Any(i => i.Code == Bpf.Ja), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 135, 597)), Is.EqualTo(Allow));
            Assert.That(SeccompBpf.Run(p, new(SeccompData.X86_64, 135, 598)), Is.EqualTo(Errno | 1));
            Assert.That(SeccompBpf.Run(p, new(SeccompData.I386, 20)), Is.EqualTo(Allow));
            Assert.That(SeccompBpf.Run(p, new(SeccompData.I386, 136, 3)), Is.EqualTo(Allow));
        });
    }
}

public class SeccompFeaturesTests
{
    [Test]
    public void Features_Seccomp_ReportsWhatTheCompilerTakes()
    {
        var seccomp = ClearOci.Client.Features.Build()["linux"]!["seccomp"]!;
        string[] Names(string key) => seccomp[key]!.AsArray().Select(n => (string)n!).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That((bool)seccomp["enabled"]!, Is.True);
            Assert.That(Names("actions"), Does.Contain("SCMP_ACT_ERRNO").And.Contain("SCMP_ACT_KILL_PROCESS").And.Not.Contain("SCMP_ACT_NOTIFY"));
            Assert.That(Names("operators"), Has.Length.EqualTo(7));
            Assert.That(Names("archs"), Is.EquivalentTo(new[] { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" }));
            Assert.That(Names("supportedFlags"), Is.EquivalentTo(new[] { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW" }));
        });
        foreach (var action in Names("actions"))
            Assert.DoesNotThrow(() => SeccompCompiler.CompileProgram(new LinuxSeccomp { DefaultAction = action }), action);
    }
}
