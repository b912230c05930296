namespace ClearOci.Seccomp;

/// <summary>
/// An ABI the filter dispatches on. An x86-64 kernel reports three: x86_64 and x32 (both
/// AUDIT_ARCH_X86_64, x32 numbers carry bit 30) and i386 (AUDIT_ARCH_I386, IA-32 emulation).
/// </summary>
internal sealed class SeccompArch
{
    public const uint AuditArchX86_64 = 0xC000003E, AuditArchI386 = 0x40000003;

    private SeccompArch(string ociName, uint auditArch, SyscallEntry[] table, uint low, uint high)
    {
        OciName = ociName;
        AuditArch = auditArch;
        Syscalls = SyscallTable.Index(table);
        Low = low;
        High = high;
    }

    public string OciName { get; }
    public uint AuditArch { get; }
    public IReadOnlyDictionary<string, int> Syscalls { get; }
    /// <summary>The range of seccomp_data.nr (unsigned) this ABI's dispatch covers.</summary>
    public uint Low { get; }
    public uint High { get; }

    public static SeccompArch X86_64 { get; } = new("SCMP_ARCH_X86_64", AuditArchX86_64, SyscallTable.X86_64, 0, SyscallTable.X32Bit - 1);
    public static SeccompArch X32 { get; } = new("SCMP_ARCH_X32", AuditArchX86_64, SyscallTable.X32, SyscallTable.X32Bit, uint.MaxValue);
    public static SeccompArch I386 { get; } = new("SCMP_ARCH_X86", AuditArchI386, SyscallTable.I386, 0, uint.MaxValue);

    /// <summary>The ABIs compiled into filters, by OCI name.</summary>
    public static IReadOnlyList<SeccompArch> Supported { get; } = [X86_64, I386, X32];

    /// <summary>
    /// Names the runtime-spec allows whose audit arch an x86-64 kernel never reports: accepted
    /// and compiled to nothing (a syscall of theirs cannot reach this filter).
    /// </summary>
    public static IReadOnlyList<string> Foreign { get; } =
    [
        "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
        "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    ];
}
