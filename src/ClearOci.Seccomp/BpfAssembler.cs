using System.Runtime.InteropServices;
using System.Text;
using ClearOci.Spec;

namespace ClearOci.Seccomp;

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
