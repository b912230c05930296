using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ClearOci.Spec;

namespace ClearOci.Seccomp;

/// <summary>One classic BPF instruction, laid out as the kernel's <c>struct sock_filter</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct SockFilter(ushort Code, byte Jt, byte Jf, uint K)
{
    public const int Size = 8;
}

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

/// <summary>
/// Builds a program with symbolic, forward-only jump targets. Conditional jumps reach at most 255
/// instructions ahead; <see cref="Assemble"/> routes a longer one through an inserted
/// <c>ja</c> (32-bit offset) placed right behind it.
/// </summary>
internal sealed class BpfAssembler
{
    public sealed class Label
    {
        public int Position = -1;
    }

    private sealed class Item
    {
        public ushort Code;
        public uint K;
        public Label? Jt, Jf;
        public Label? Marks; // a label marker, not an instruction
    }

    private readonly List<Item> _items = [];

    public Label NewLabel() => new();

    public void Mark(Label label) => _items.Add(new Item { Marks = label });

    public void Load(uint offset) => _items.Add(new Item { Code = Bpf.LdAbsW, K = offset });

    public void And(uint mask) => _items.Add(new Item { Code = Bpf.AndK, K = mask });

    public void Ret(uint value) => _items.Add(new Item { Code = Bpf.RetK, K = value });

    public void Goto(Label target) => _items.Add(new Item { Code = Bpf.Ja, Jt = target });

    /// <summary>A conditional jump; a null target means the next instruction.</summary>
    public void Jump(ushort code, uint k, Label? whenTrue, Label? whenFalse)
    {
        Label? next = whenTrue is null || whenFalse is null ? NewLabel() : null;
        _items.Add(new Item { Code = code, K = k, Jt = whenTrue ?? next, Jf = whenFalse ?? next });
        if (next != null) Mark(next);
    }

    public SockFilter[] Assemble()
    {
        SockFilter[]? program;
        while (!Resolve(out program)) { }
        return program!;
    }

    /// <summary>Places labels; false (after inserting trampolines) when a jump was out of reach.</summary>
    private bool Resolve(out SockFilter[]? program)
    {
        program = null;
        int pc = 0;
        foreach (var item in _items)
        {
            if (item.Marks is { } label) label.Position = pc;
            else pc++;
        }
        var result = new SockFilter[pc];
        pc = 0;
        for (int n = 0; n < _items.Count; n++)
        {
            var item = _items[n];
            if (item.Marks != null) continue;
            if (item.Code == Bpf.Ja)
            {
                result[pc] = new SockFilter(Bpf.Ja, 0, 0, (uint)Offset(item.Jt!, pc));
            }
            else if (item.Jt != null)
            {
                int jt = Offset(item.Jt, pc), jf = Offset(item.Jf!, pc);
                if (jt > byte.MaxValue || jf > byte.MaxValue)
                {
                    // Put a trampoline behind the jump for each far side, then lay out again.
                    if (jf > byte.MaxValue) item.Jf = Trampoline(n, item.Jf!);
                    if (jt > byte.MaxValue) item.Jt = Trampoline(n, item.Jt);
                    return false;
                }
                result[pc] = new SockFilter(item.Code, (byte)jt, (byte)jf, item.K);
            }
            else
            {
                result[pc] = new SockFilter(item.Code, 0, 0, item.K);
            }
            pc++;
        }
        program = result;
        return true;
    }

    private Label Trampoline(int after, Label target)
    {
        var here = NewLabel();
        _items.Insert(after + 1, new Item { Code = Bpf.Ja, Jt = target });
        _items.Insert(after + 1, new Item { Marks = here });
        return here;
    }

    private static int Offset(Label target, int pc)
    {
        int offset = target.Position - pc - 1;
        if (target.Position < 0 || offset < 0)
            throw new ClearOciException(ErrorCode.Internal, $"BPF jump at {pc} to an unplaced or earlier label");
        return offset;
    }
}
