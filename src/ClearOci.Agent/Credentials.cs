using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>The ids a container process runs with, and the HOME its user has in the container's /etc/passwd.</summary>
internal sealed record Credentials(uint Uid, uint Gid, IReadOnlyList<uint> Groups, string Home)
{
    /// <summary>
    /// Resolves process.user against the container's own /etc/passwd and /etc/group (the static agent
    /// has no NSS). Numbers are used as given (as runc does), with HOME from the passwd entry of the
    /// uid if there is one. A <c>username</c> ("USER[:GROUP]", names or numbers, as `exec --user`
    /// passes it) is looked up: uid, primary gid and home from passwd, the supplementary groups that
    /// list the user in /etc/group (unless a GROUP is given), then additionalGids.
    /// </summary>
    public static Credentials Resolve(User user, string passwdPath = "/etc/passwd", string groupPath = "/etc/group")
    {
        var passwd = ReadDatabase(passwdPath);
        var extra = user.AdditionalGids ?? [];
        if (string.IsNullOrEmpty(user.Username))
        {
            var entry = passwd.FirstOrDefault(p => p.Length >= 6 && p[2] == user.Uid.ToString());
            return new Credentials(user.Uid, user.Gid, extra.Distinct().ToList(), entry?[5] is { Length: > 0 } found ? found : "/");
        }

        string name = user.Username, groupArg = "";
        int colon = name.IndexOf(':');
        if (colon >= 0) (name, groupArg) = (name[..colon], name[(colon + 1)..]);
        if (name.Length == 0) throw ClearOciException.Invalid($"user \"{user.Username}\": empty user name");
        bool numeric = uint.TryParse(name, out uint uid);
        var match = passwd.FirstOrDefault(p => p.Length >= 6 && (numeric ? p[2] == name : p[0] == name));
        if (match is null && !numeric)
            throw new ClearOciException(ErrorCode.NotFound, $"unable to find user {name}: no matching entries in passwd file");
        uint gid = 0;
        string home = "/";
        if (match is not null)
        {
            uid = uint.Parse(match[2]);
            gid = uint.TryParse(match[3], out uint g) ? g : 0;
            if (match[5].Length > 0) home = match[5];
        }

        var groups = new List<uint>();
        var groupDb = groupArg.Length > 0 || match is not null ? ReadDatabase(groupPath) : [];
        if (groupArg.Length > 0)
        {
            if (uint.TryParse(groupArg, out uint number)) gid = number;
            else gid = groupDb.FirstOrDefault(e => e.Length >= 3 && e[0] == groupArg) is { } found && uint.TryParse(found[2], out uint n)
                ? n
                : throw new ClearOciException(ErrorCode.NotFound, $"unable to find group {groupArg}: no matching entries in group file");
        }
        else if (match is not null)
        {
            // Supplementary groups come with a matched user, not with an explicit group.
            foreach (var e in groupDb)
                if (e.Length >= 4 && e[3].Split(',').Contains(match[0]) && uint.TryParse(e[2], out uint n)) groups.Add(n);
        }
        groups.AddRange(extra);
        return new Credentials(uid, gid, groups.Distinct().ToList(), home);
    }

    /// <summary>colon-separated lines, comments and blank lines skipped; a missing file is empty.</summary>
    private static List<string[]> ReadDatabase(string path)
    {
        if (!File.Exists(path)) return [];
        return File.ReadLines(path)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(':'))
            .ToList();
    }

    /// <summary>The environment with HOME added from the passwd entry when the config sets none (as runc does).</summary>
    public List<string> WithHome(IReadOnlyList<string> env) =>
        env.Any(e => e.StartsWith("HOME=", StringComparison.Ordinal)) ? [.. env] : [.. env, "HOME=" + Home];
}
