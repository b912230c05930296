namespace ClearOci.Shim;

/// <summary>One ttrpc frame: 10-byte header (length u32 BE, stream id u32 BE, type, flags) + data.</summary>
public readonly record struct Frame(uint StreamId, FrameType Type, byte Flags, byte[] Data);
