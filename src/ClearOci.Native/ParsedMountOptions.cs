namespace ClearOci.Native;

/// <summary>An OCI mount's options split into mount(2) flags, propagation flags and fs data.</summary>
public readonly record struct ParsedMountOptions(ulong Flags, ulong ClearFlags, ulong Propagation, string Data, bool Bind, bool Recursive, bool TmpCopyUp);
