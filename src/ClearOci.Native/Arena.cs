using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>Native UTF-8 strings freed together.</summary>
internal sealed unsafe class Arena : IDisposable
{
    private readonly List<nint> _blocks = new();

    public byte* Str(string s)
    {
        int n = System.Text.Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        fixed (char* c = s) System.Text.Encoding.UTF8.GetBytes(c, s.Length, p, n);
        p[n] = 0;
        _blocks.Add((nint)p);
        return p;
    }

    public byte** StrArray(IReadOnlyList<string> items)
    {
        byte** arr = (byte**)NativeMemory.AllocZeroed((nuint)(items.Count + 1), (nuint)sizeof(nint));
        _blocks.Add((nint)arr);
        for (int i = 0; i < items.Count; i++) arr[i] = Str(items[i]);
        return arr;
    }

    public void Dispose()
    {
        foreach (var b in _blocks) NativeMemory.Free((void*)b);
        _blocks.Clear();
    }
}
