namespace ClearOci.Protocol;

/// <summary>One frame of the io channel: bytes of one stream, or its end.</summary>
public readonly record struct IoFrame(uint Stream, bool Eof, ReadOnlyMemory<byte> Data);
