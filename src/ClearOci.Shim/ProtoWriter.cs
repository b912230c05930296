using System.Text;

namespace ClearOci.Shim;

/// <summary>
/// Writes protobuf (proto3) fields: zero numbers, false and empty strings are omitted, as the Go
/// encoders containerd uses do. int64 is a plain varint (two's complement, 10 bytes when negative).
/// </summary>
public sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public ProtoWriter Uint(int field, ulong value)
    {
        if (value == 0) return this;
        Tag(field, 0);
        WriteVarint(value);
        return this;
    }

    public ProtoWriter Int64(int field, long value) => Uint(field, unchecked((ulong)value));

    /// <summary>int32: negative values are sign-extended to 64 bits, as protobuf does.</summary>
    public ProtoWriter Int32(int field, int value) => Uint(field, unchecked((ulong)(long)value));

    public ProtoWriter Bool(int field, bool value) => Uint(field, value ? 1UL : 0);

    public ProtoWriter String(int field, string? value) =>
        string.IsNullOrEmpty(value) ? this : Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A length-delimited field, left out when empty.</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value) => value.IsEmpty ? this : Message(field, value);

    /// <summary>A sub-message: always written, even when empty (so its presence is kept).</summary>
    public ProtoWriter Message(int field, ReadOnlySpan<byte> encoded)
    {
        Tag(field, 2);
        WriteVarint((ulong)encoded.Length);
        _buffer.Write(encoded);
        return this;
    }

    public ProtoWriter Message(int field, ProtoWriter inner) => Message(field, inner.ToArray());

    /// <summary>packed repeated uint64.</summary>
    public ProtoWriter PackedUint(int field, IReadOnlyList<ulong> values)
    {
        if (values.Count == 0) return this;
        var inner = new ProtoWriter();
        foreach (var v in values) inner.WriteVarint(v);
        return Message(field, inner.ToArray());
    }

    public byte[] ToArray() => _buffer.ToArray();

    private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _buffer.WriteByte((byte)value);
    }
}

/// <summary>Reads protobuf fields one by one; the caller switches on the number and skips the rest.</summary>
public ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;
    private int _wireType;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
        _wireType = -1;
    }

    /// <summary>Moves to the next field; false at the end.</summary>
    public bool Next(out int field)
    {
        if (_pos >= _data.Length) { field = 0; return false; }
        ulong key = ReadVarint();
        field = (int)(key >> 3);
        _wireType = (int)(key & 7);
        if (field <= 0) throw new ProtoException($"invalid field number {field}");
        return true;
    }

    public ulong Varint()
    {
        Expect(0);
        return ReadVarint();
    }

    public uint Uint32() => unchecked((uint)Varint());
    public long Int64() => unchecked((long)Varint());
    public int Int32() => unchecked((int)Varint());
    public bool Bool() => Varint() != 0;

    public ReadOnlySpan<byte> Bytes()
    {
        Expect(2);
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _pos)) throw new ProtoException("truncated length-delimited field");
        var slice = _data.Slice(_pos, (int)length);
        _pos += (int)length;
        return slice;
    }

    public string String() => Encoding.UTF8.GetString(Bytes());

    /// <summary>Skips the current field, whatever its type.</summary>
    public void Skip()
    {
        switch (_wireType)
        {
            case 0: ReadVarint(); break;
            case 1: Advance(8); break;
            case 2: Bytes(); break;
            case 5: Advance(4); break;
            default: throw new ProtoException($"unsupported wire type {_wireType}");
        }
    }

    private void Advance(int n)
    {
        if (_data.Length - _pos < n) throw new ProtoException("truncated fixed-size field");
        _pos += n;
    }

    private void Expect(int wireType)
    {
        if (_wireType != wireType) throw new ProtoException($"wire type {_wireType} where {wireType} was expected");
    }

    private ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _data.Length) throw new ProtoException("truncated varint");
            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
        throw new ProtoException("varint longer than 10 bytes");
    }
}
