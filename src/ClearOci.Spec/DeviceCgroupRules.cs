namespace ClearOci.Spec;

/// <summary>
/// linux.resources.devices as the lines of a cgroup v1 devices controller (devices.allow /
/// devices.deny), in the order runc applies them (pure): the config's rules, then the devices every
/// container may use (mknod of any node; the console, ptys, /dev/ptmx, tun; null, zero, full,
/// tty, random, urandom), then the nodes linux.devices gives the container. Later lines win, as
/// later rules do in the OCI spec.
/// </summary>
public static class DeviceCgroupRules
{
    public const string AllowFile = "devices.allow", DenyFile = "devices.deny";

    /// <summary>(type, major, minor, access) of the devices runc always allows; -1 is any.</summary>
    private static readonly (char Type, long Major, long Minor, string Access)[] Defaults =
    [
        ('c', -1, -1, "m"), ('b', -1, -1, "m"),
        ('c', 5, 1, "rwm"),   // /dev/console
        ('c', 136, -1, "rwm"), // /dev/pts/*
        ('c', 5, 2, "rwm"),   // /dev/ptmx
        ('c', 10, 200, "rwm"), // /dev/net/tun
        ('c', 1, 3, "rwm"), ('c', 1, 5, "rwm"), ('c', 1, 7, "rwm"), // null, zero, full
        ('c', 5, 0, "rwm"),   // /dev/tty
        ('c', 1, 9, "rwm"), ('c', 1, 8, "rwm"), // urandom, random
    ];

    /// <summary>The (file, line) writes for a container; none when the config sets no device rule (nothing is restricted).</summary>
    public static List<(string File, string Line)> For(OciSpec spec)
    {
        var rules = spec.Linux?.Resources?.Devices;
        var lines = new List<(string, string)>();
        if (rules is null || rules.Count == 0) return lines;
        foreach (var r in rules)
        {
            string type = string.IsNullOrEmpty(r.Type) ? "a" : r.Type;
            if (type is not ("a" or "c" or "b")) throw ClearOciException.Invalid($"linux.resources.devices: type \"{r.Type}\" is not a, c or b");
            string access = string.IsNullOrEmpty(r.Access) ? "rwm" : r.Access;
            if (access.Any(c => c is not ('r' or 'w' or 'm')))
                throw ClearOciException.Invalid($"linux.resources.devices: access \"{r.Access}\" is not made of r, w and m");
            // "a" with no numbers is the whole table (and resets it); with numbers the kernel wants them too.
            string line = type == "a" && r.Major is null && r.Minor is null ? "a" : $"{type} {Number(r.Major)}:{Number(r.Minor)} {access}";
            lines.Add((r.Allow ? AllowFile : DenyFile, line));
        }
        foreach (var (type, major, minor, access) in Defaults)
            lines.Add((AllowFile, $"{type} {Number(major < 0 ? null : major)}:{Number(minor < 0 ? null : minor)} {access}"));
        foreach (var d in spec.Linux?.Devices ?? [])
            if (d.Type is "c" or "b" or "u")
                lines.Add((AllowFile, $"{(d.Type == "b" ? 'b' : 'c')} {d.Major}:{d.Minor} rwm"));
        return lines;
    }

    private static string Number(long? n) => n is long v and >= 0 ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "*";
}
