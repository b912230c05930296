namespace ClearOci.Seccomp;

/// <summary>The syscall tables (generated into SyscallTable.g.cs by gen-syscalls.py) and lookups.</summary>
internal static partial class SyscallTable
{
    /// <summary>x32 system calls are x86_64 ones (same audit arch) with this bit set in the number.</summary>
    public const int X32Bit = 0x40000000;

    public static Dictionary<string, int> Index(SyscallEntry[] table)
    {
        var index = new Dictionary<string, int>(table.Length, StringComparer.Ordinal);
        foreach (var (name, number) in table) index[name] = number;
        return index;
    }
}
