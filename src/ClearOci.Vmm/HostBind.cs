using ClearOci.Spec;

namespace ClearOci.Vmm;

/// <summary>A host path bound at <see cref="Name"/> inside a share's staging directory.</summary>
/// <param name="Source">An existing host directory or file.</param>
/// <param name="Name">One path component: the entry of the staging directory it appears as.</param>
/// <param name="Recursive">rbind: the source's own submounts come along.</param>
/// <param name="ReadOnly">Read-only already on the host: the guest cannot write through it whatever it mounts.</param>
public sealed record HostBind(string Source, string Name, bool Recursive, bool ReadOnly);
