using System.Buffers.Binary;

namespace ClearOci.Shim;

internal static class BigEndian
{
    public static uint U32(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt32BigEndian(b);
    public static void U32(Span<byte> b, uint v) => BinaryPrimitives.WriteUInt32BigEndian(b, v);
}
