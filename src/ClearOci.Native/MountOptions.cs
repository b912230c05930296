namespace ClearOci.Native;

/// <summary>Parses OCI mount options as runc does (pure).</summary>
public static class MountOptions
{
    private static readonly Dictionary<string, (bool Clear, ulong Flag)> Flags = new()
    {
        ["ro"] = (false, Libc.MS_RDONLY), ["rw"] = (true, Libc.MS_RDONLY),
        ["nosuid"] = (false, Libc.MS_NOSUID), ["suid"] = (true, Libc.MS_NOSUID),
        ["nodev"] = (false, Libc.MS_NODEV), ["dev"] = (true, Libc.MS_NODEV),
        ["noexec"] = (false, Libc.MS_NOEXEC), ["exec"] = (true, Libc.MS_NOEXEC),
        ["sync"] = (false, Libc.MS_SYNCHRONOUS), ["async"] = (true, Libc.MS_SYNCHRONOUS),
        ["dirsync"] = (false, Libc.MS_DIRSYNC), ["remount"] = (false, Libc.MS_REMOUNT),
        ["mand"] = (false, Libc.MS_MANDLOCK), ["nomand"] = (true, Libc.MS_MANDLOCK),
        ["atime"] = (true, Libc.MS_NOATIME), ["noatime"] = (false, Libc.MS_NOATIME),
        ["diratime"] = (true, Libc.MS_NODIRATIME), ["nodiratime"] = (false, Libc.MS_NODIRATIME),
        ["relatime"] = (false, Libc.MS_RELATIME), ["norelatime"] = (true, Libc.MS_RELATIME),
        ["strictatime"] = (false, Libc.MS_STRICTATIME), ["nostrictatime"] = (true, Libc.MS_STRICTATIME),
        ["lazytime"] = (false, Libc.MS_LAZYTIME), ["nolazytime"] = (true, Libc.MS_LAZYTIME),
    };

    private static readonly Dictionary<string, ulong> PropagationFlags = new()
    {
        ["private"] = Libc.MS_PRIVATE, ["rprivate"] = Libc.MS_PRIVATE | Libc.MS_REC,
        ["shared"] = Libc.MS_SHARED, ["rshared"] = Libc.MS_SHARED | Libc.MS_REC,
        ["slave"] = Libc.MS_SLAVE, ["rslave"] = Libc.MS_SLAVE | Libc.MS_REC,
        ["unbindable"] = Libc.MS_UNBINDABLE, ["runbindable"] = Libc.MS_UNBINDABLE | Libc.MS_REC,
    };

    public static ParsedMountOptions Parse(IEnumerable<string>? options)
    {
        ulong flags = 0, clear = 0, propagation = 0;
        bool bind = false, recursive = false, tmpCopyUp = false;
        var data = new List<string>();
        foreach (var o in options ?? [])
        {
            if (o == "bind") { bind = true; continue; }
            if (o == "rbind") { bind = true; recursive = true; continue; }
            if (o == "tmpcopyup") { tmpCopyUp = true; continue; }
            if (Flags.TryGetValue(o, out var f))
            {
                if (f.Clear) { flags &= ~f.Flag; clear |= f.Flag; }
                else { flags |= f.Flag; clear &= ~f.Flag; }
                continue;
            }
            if (PropagationFlags.TryGetValue(o, out var p)) { propagation = p; continue; }
            data.Add(o);
        }
        return new ParsedMountOptions(flags, clear, propagation, string.Join(',', data), bind, recursive, tmpCopyUp);
    }
}
