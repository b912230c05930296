using ClearOci.Native;
using ClearOci.Protocol;
using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Runtime;

/// <summary>The caller's stdio, as streams (tests pass their own).</summary>
public sealed record Stdio(Stream? Input, Stream Output, Stream Error);
