using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace ClearOci.Seccomp;

/// <summary>The subset of classic BPF that seccomp filters use here, and its text form.</summary>
public static class Bpf
{
    public const ushort LdAbsW = 0x20, AndK = 0x54, Ja = 0x05, JeqK = 0x15, JgtK = 0x25, JgeK = 0x35, JsetK = 0x45, RetK = 0x06;

    /// <summary>The kernel's BPF_MAXINSNS: a longer filter is refused with EINVAL.</summary>
    public const int MaxInstructions = 4096;

    /// <summary>Offsets in <c>struct seccomp_data</c>.</summary>
    public const uint NrOffset = 0, ArchOffset = 4;
    public static uint ArgLowOffset(uint index) => 16 + 8 * index;
    public static uint ArgHighOffset(uint index) => 16 + 8 * index + 4;

    public static byte[] ToBytes(ReadOnlySpan<SockFilter> program)
    {
        var bytes = new byte[program.Length * SockFilter.Size];
        for (int i = 0; i < program.Length; i++)
        {
            var s = bytes.AsSpan(i * SockFilter.Size, SockFilter.Size);
            BinaryPrimitives.WriteUInt16LittleEndian(s, program[i].Code);
            s[2] = program[i].Jt;
            s[3] = program[i].Jf;
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], program[i].K);
        }
        return bytes;
    }

    public static SockFilter[] FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % SockFilter.Size != 0)
            throw new ClearOciException(ErrorCode.InvalidArgument, $"a BPF program of {bytes.Length} bytes is not a whole number of instructions");
        var program = new SockFilter[bytes.Length / SockFilter.Size];
        for (int i = 0; i < program.Length; i++)
        {
            var s = bytes.Slice(i * SockFilter.Size, SockFilter.Size);
            program[i] = new SockFilter(BinaryPrimitives.ReadUInt16LittleEndian(s), s[2], s[3], BinaryPrimitives.ReadUInt32LittleEndian(s[4..]));
        }
        return program;
    }

    /// <summary>One instruction per line, jump targets as absolute instruction numbers.</summary>
    public static string Disassemble(ReadOnlySpan<SockFilter> program)
    {
        var text = new StringBuilder();
        for (int pc = 0; pc < program.Length; pc++)
        {
            var i = program[pc];
            string line = i.Code switch
            {
                LdAbsW => $"ld [{i.K}]",
                AndK => $"and #0x{i.K:x}",
                Ja => $"ja {pc + 1 + (long)i.K}",
                JeqK or JgtK or JgeK or JsetK => $"{Mnemonic(i.Code)} #0x{i.K:x} jt {pc + 1 + i.Jt} jf {pc + 1 + i.Jf}",
                RetK => $"ret #0x{i.K:x}",
                _ => $"code 0x{i.Code:x} jt {i.Jt} jf {i.Jf} k 0x{i.K:x}",
            };
            text.Append(CultureInfo.InvariantCulture, $"{pc,4}: {line}\n");
        }
        return text.ToString();
    }

    private static string Mnemonic(ushort code) => code switch
    {
        JeqK => "jeq", JgtK => "jgt", JgeK => "jge", _ => "jset",
    };
}
