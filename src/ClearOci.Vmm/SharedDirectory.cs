using ClearOci.Native;

namespace ClearOci.Vmm;

/// <summary>
/// One virtio-fs share: a staging directory (created here, empty on the host) whose entries are
/// bind mounts of host paths. The binds exist only in a mount namespace private to the share's
/// virtiofsd: they never appear in the host's mount table and vanish with that virtiofsd, however
/// the runtime ends (delete, delete --force, a SIGKILLed supervisor).
/// </summary>
public sealed record SharedDirectory(string Tag, string Staging, IReadOnlyList<HostBind> Binds)
{
    /// <summary>Makes the staging directory and one empty entry per bind (a directory or a file, like its source).</summary>
    public void PrepareStaging()
    {
        Libc.MkdirAll(Staging, 0x1c0 /* 0700 */);
        foreach (var b in Binds)
        {
            if (b.Name.Length == 0 || b.Name.Contains('/') || b.Name is "." or "..")
                throw new ClearOciException(ErrorCode.Internal, $"bad staging name \"{b.Name}\"");
            string target = Path.Combine(Staging, b.Name);
            if (Directory.Exists(b.Source)) Libc.MkdirAll(target);
            else if (File.Exists(b.Source)) File.WriteAllBytes(target, []);
            else throw new ClearOciException(ErrorCode.NotFound, $"bind mount source {b.Source} does not exist");
        }
    }

    /// <summary>In the calling thread's (private) mount namespace: binds every source onto its staging entry.</summary>
    internal void MountBinds()
    {
        foreach (var b in Binds)
        {
            string target = Path.Combine(Staging, b.Name);
            Libc.Mount(b.Source, target, null, Libc.MS_BIND | (b.Recursive ? Libc.MS_REC : 0), null);
            if (b.ReadOnly) Libc.Mount(null, target, null, Libc.MS_BIND | Libc.MS_REMOUNT | Libc.MS_RDONLY, null);
        }
    }
}
