using ClearOci.Seccomp;

namespace ClearOci.Tests;

/// <summary>The input of a seccomp filter (<c>struct seccomp_data</c>).</summary>
internal sealed record SeccompData(uint Arch, int Nr, params ulong[] Args)
{
    public const uint X86_64 = 0xC000003E, I386 = 0x40000003, Aarch64 = 0xC00000B7;

    public uint Word(uint offset)
    {
        if (offset == 0) return (uint)Nr;
        if (offset == 4) return Arch;
        if (offset is >= 16 and < 64)
        {
            ulong arg = (int)(offset - 16) / 8 < Args.Length ? Args[(offset - 16) / 8] : 0;
            return (offset - 16) % 8 == 0 ? (uint)arg : (uint)(arg >> 32);
        }
        throw new ArgumentOutOfRangeException(nameof(offset), $"seccomp_data has no word at {offset}");
    }
}

/// <summary>
/// A classic BPF interpreter for seccomp filters, independent of the compiler: first the checks
/// the kernel makes when a filter is loaded (bpf_check_classic, seccomp_check_filter), then runs.
/// </summary>
internal static class SeccompBpf
{
    public static void Check(SockFilter[] program)
    {
        Assert.That(program.Length, Is.InRange(1, 4096), "the kernel takes 1 to 4096 instructions");
        for (int pc = 0; pc < program.Length; pc++)
        {
            var i = program[pc];
            switch (i.Code)
            {
                case Bpf.LdAbsW:
                    Assert.That(i.K % 4 == 0 && i.K < 64, Is.True, $"{pc}: load of seccomp_data offset {i.K} (must be aligned, < 64)");
                    break;
                case Bpf.AndK:
                case Bpf.RetK:
                    break;
                case Bpf.Ja:
                    Assert.That(pc + 1 + (long)i.K, Is.LessThan(program.Length), $"{pc}: ja out of the program");
                    break;
                case Bpf.JeqK or Bpf.JgtK or Bpf.JgeK or Bpf.JsetK:
                    Assert.That(pc + 1 + Math.Max(i.Jt, i.Jf), Is.LessThan(program.Length), $"{pc}: jump out of the program");
                    break;
                default:
                    Assert.Fail($"{pc}: opcode 0x{i.Code:x} is not used by seccomp filters here");
                    break;
            }
        }
        Assert.That(program[^1].Code, Is.EqualTo(Bpf.RetK), "the last instruction must return");
    }

    public static uint Run(SockFilter[] program, SeccompData data)
    {
        uint a = 0;
        for (int pc = 0, steps = 0; ; pc++, steps++)
        {
            if (pc >= program.Length || steps > program.Length) Assert.Fail($"the program ran off its end or looped at {pc}");
            var i = program[pc];
            switch (i.Code)
            {
                case Bpf.LdAbsW: a = data.Word(i.K); break;
                case Bpf.AndK: a &= i.K; break;
                case Bpf.Ja: pc += (int)i.K; break;
                case Bpf.JeqK: pc += a == i.K ? i.Jt : i.Jf; break;
                case Bpf.JgtK: pc += a > i.K ? i.Jt : i.Jf; break;
                case Bpf.JgeK: pc += a >= i.K ? i.Jt : i.Jf; break;
                case Bpf.JsetK: pc += (a & i.K) != 0 ? i.Jt : i.Jf; break;
                case Bpf.RetK: return i.K;
                default: Assert.Fail($"{pc}: unknown opcode 0x{i.Code:x}"); break;
            }
        }
    }
}
