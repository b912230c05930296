using System.Runtime.InteropServices;

namespace ClearOci.Seccomp;

/// <summary>
/// Loads a compiled filter into the calling thread (all threads with SECCOMP_FILTER_FLAG_TSYNC);
/// execve keeps it. Without no_new_privs the kernel asks for CAP_SYS_ADMIN, so a caller that
/// does not set noNewPrivileges installs before dropping capabilities and changing user.
/// </summary>
public static unsafe partial class SeccompInstaller
{
    private const int PR_SET_NO_NEW_PRIVS = 38;
    private const long SYS_seccomp = 317;
    private const nint SECCOMP_SET_MODE_FILTER = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Len;
        public byte* Filter;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nint a1, nint a2, nint a3);

    public static void Install(SeccompFilter filter, bool noNewPrivileges)
    {
        if (filter.Length is 0 or > Bpf.MaxInstructions)
            throw new ClearOciException(ErrorCode.Internal, $"a seccomp filter of {filter.Length} instructions cannot be loaded");
        if (noNewPrivileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            throw Failure("prctl(PR_SET_NO_NEW_PRIVS)", "");
        fixed (byte* p = filter.Program)
        {
            var prog = new SockFprog { Len = (ushort)filter.Length, Filter = p };
            if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (nint)filter.Flags, (nint)(&prog)) < 0)
                throw Failure("load the seccomp filter", noNewPrivileges ? "" : " (without noNewPrivileges this needs CAP_SYS_ADMIN)");
        }
    }

    private static ClearOciException Failure(string what, string hint)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new ClearOciException(ErrorCode.System, $"{what}: {Marshal.GetPInvokeErrorMessage(errno)}{hint}", errno);
    }
}
