using System.Runtime.InteropServices;

namespace ClearOci.Seccomp;

/// <summary>One classic BPF instruction, laid out as the kernel's <c>struct sock_filter</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct SockFilter(ushort Code, byte Jt, byte Jf, uint K)
{
    public const int Size = 8;
}
