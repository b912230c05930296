namespace ClearOci.Spec;

/// <summary>
/// Semantic checks of a parsed config (what the JSON types cannot say). Pure: no file system access;
/// the root filesystem's existence is checked by <see cref="ConfigLoader"/>. Problems come in document order.
/// </summary>
public static class SpecValidator
{
    /// <param name="requireProcess">True for <c>create</c> and <c>run</c>: a process with a program to run is needed.</param>
    public static IReadOnlyList<SpecProblem> Check(OciSpec spec, bool requireProcess = true)
    {
        var problems = new List<SpecProblem>();
        CheckVersion(spec.OciVersion, problems);
        if (spec.Process is { } process) CheckProcess(process, "$.process", requireProcess, problems);
        else if (requireProcess) problems.Add(new("$.process", "missing; a process is required to create or run a container"));
        CheckRoot(spec.Root, problems);
        CheckMounts(spec.Mounts, problems);
        CheckHooks(spec.Hooks, problems);
        if (spec.Linux is { } linux) CheckLinux(linux, problems);
        return problems;
    }

    /// <summary>Checks a process on its own (for example the <c>exec --process</c> input), with paths under <paramref name="path"/>.</summary>
    public static IReadOnlyList<SpecProblem> CheckProcess(Process process, string path = "$")
    {
        var problems = new List<SpecProblem>();
        CheckProcess(process, path, requireArgs: true, problems);
        return problems;
    }

    /// <summary>Checks resources on their own (the <c>update --resources</c> input), with paths under <paramref name="path"/>.</summary>
    public static IReadOnlyList<SpecProblem> CheckResources(LinuxResources resources, string path = "$")
    {
        var problems = new List<SpecProblem>();
        CheckResources(resources, path, problems);
        return problems;
    }

    private static void CheckVersion(string version, List<SpecProblem> problems)
    {
        const string path = "$.ociVersion";
        if (string.IsNullOrEmpty(version))
        {
            problems.Add(new(path, "missing; expected a runtime-spec version 1.x such as \"1.0.2\""));
            return;
        }
        // 1.MINOR[.PATCH][-prerelease|+build]
        int cut = version.IndexOfAny(['-', '+']);
        string[] parts = (cut < 0 ? version : version[..cut]).Split('.');
        bool ok = parts.Length is 2 or 3 && parts[0] == "1" && parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit));
        if (!ok) problems.Add(new(path, $"unsupported version {Text.Quote(version)}; expected 1.x such as \"1.0.2\""));
    }

    private static void CheckProcess(Process process, string path, bool requireArgs, List<SpecProblem> problems)
    {
        string args = path + ".args";
        if (process.Args is not { Count: > 0 })
        {
            if (requireArgs) problems.Add(new(args, "missing or empty; expected the program to run and its arguments"));
        }
        else if (string.IsNullOrEmpty(process.Args[0]))
        {
            problems.Add(new(args + "[0]", "empty program name"));
        }

        string cwd = path + ".cwd";
        if (string.IsNullOrEmpty(process.Cwd)) problems.Add(new(cwd, "missing; expected an absolute path"));
        else if (!process.Cwd.StartsWith('/')) problems.Add(new(cwd, $"{Text.Quote(process.Cwd)} is not an absolute path"));

        if (process.Env is { } env)
        {
            for (int i = 0; i < env.Count; i++)
            {
                string? entry = env[i];
                if (entry is null || entry.IndexOf('=') <= 0)
                    problems.Add(new($"{path}.env[{i}]", $"{Text.Quote(entry)} is not of the form NAME=VALUE"));
            }
        }

        if (process.Rlimits is { } rlimits)
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < rlimits.Count; i++)
            {
                string at = $"{path}.rlimits[{i}]";
                PosixRlimit rlimit = rlimits[i];
                if (rlimit is null) { problems.Add(new(at, "expected an object, got null")); continue; }
                if (CheckOneOf(rlimit.Type, at + ".type", "rlimit type", SpecNames.Rlimits, required: true, problems) && !seen.TryAdd(rlimit.Type, i))
                    problems.Add(new(at + ".type", $"duplicate rlimit type {Text.Quote(rlimit.Type)} (first at {path}.rlimits[{seen[rlimit.Type]}])"));
                if (rlimit.Soft > rlimit.Hard)
                    problems.Add(new(at + ".soft", $"soft limit {rlimit.Soft} is greater than hard limit {rlimit.Hard}"));
            }
        }

        if (process.OomScoreAdj is < -1000 or > 1000)
            problems.Add(new(path + ".oomScoreAdj", $"{process.OomScoreAdj} is out of range; expected -1000 to 1000"));
    }

    private static void CheckRoot(Root? root, List<SpecProblem> problems)
    {
        if (root is null) problems.Add(new("$.root", "missing; expected {\"path\": ...} naming the root filesystem"));
        else if (string.IsNullOrEmpty(root.Path)) problems.Add(new("$.root.path", "missing; expected the root filesystem's path (absolute, or relative to the bundle)"));
    }

    private static void CheckMounts(List<Mount>? mounts, List<SpecProblem> problems)
    {
        if (mounts is null) return;
        for (int i = 0; i < mounts.Count; i++)
        {
            if (mounts[i] is null) { problems.Add(new($"$.mounts[{i}]", "expected an object, got null")); continue; }
            CheckAbsolute(mounts[i].Destination, $"$.mounts[{i}].destination", required: true, problems);
        }
    }

    private static void CheckHooks(Hooks? hooks, List<SpecProblem> problems)
    {
        if (hooks is null) return;
        CheckHookList(hooks.Prestart, "prestart");
        CheckHookList(hooks.CreateRuntime, "createRuntime");
        CheckHookList(hooks.CreateContainer, "createContainer");
        CheckHookList(hooks.StartContainer, "startContainer");
        CheckHookList(hooks.Poststart, "poststart");
        CheckHookList(hooks.Poststop, "poststop");

        void CheckHookList(List<Hook>? list, string name)
        {
            if (list is null) return;
            for (int i = 0; i < list.Count; i++)
            {
                string at = $"$.hooks.{name}[{i}]";
                if (list[i] is not { } hook) { problems.Add(new(at, "expected an object, got null")); continue; }
                CheckAbsolute(hook.Path, at + ".path", required: true, problems);
                if (hook.Timeout is <= 0)
                    problems.Add(new(at + ".timeout", $"{hook.Timeout} is not a positive number of seconds"));
            }
        }
    }

    private static void CheckLinux(Linux linux, List<SpecProblem> problems)
    {
        if (linux.Resources is { } resources) CheckResources(resources, "$.linux.resources", problems);

        if (linux.Namespaces is { } namespaces)
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < namespaces.Count; i++)
            {
                string at = $"$.linux.namespaces[{i}]";
                if (namespaces[i] is not { } ns) { problems.Add(new(at, "expected an object, got null")); continue; }
                if (CheckOneOf(ns.Type, at + ".type", "namespace type", SpecNames.Namespaces, required: true, problems) && !seen.TryAdd(ns.Type, i))
                    problems.Add(new(at + ".type", $"duplicate namespace type {Text.Quote(ns.Type)} (first at $.linux.namespaces[{seen[ns.Type]}])"));
                CheckAbsolute(ns.Path, at + ".path", required: false, problems);
            }
        }

        if (linux.Devices is { } devices)
        {
            for (int i = 0; i < devices.Count; i++)
            {
                string at = $"$.linux.devices[{i}]";
                if (devices[i] is not { } device) { problems.Add(new(at, "expected an object, got null")); continue; }
                CheckAbsolute(device.Path, at + ".path", required: true, problems);
                CheckOneOf(device.Type, at + ".type", "device type", SpecNames.DeviceTypes, required: true, problems);
            }
        }

        if (linux.Seccomp is { } seccomp) CheckSeccomp(seccomp, problems);
        CheckOneOf(linux.RootfsPropagation, "$.linux.rootfsPropagation", "propagation", SpecNames.RootfsPropagations, required: false, problems);
        CheckPaths(linux.MaskedPaths, "$.linux.maskedPaths", problems);
        CheckPaths(linux.ReadonlyPaths, "$.linux.readonlyPaths", problems);
        if (linux.Personality is { } personality)
            CheckOneOf(personality.Domain, "$.linux.personality.domain", "personality domain", SpecNames.PersonalityDomains, required: true, problems);
    }

    private static void CheckResources(LinuxResources resources, string path, List<SpecProblem> problems)
    {
        if (resources.Devices is not { } rules) return;
        for (int i = 0; i < rules.Count; i++)
        {
            string at = $"{path}.devices[{i}]";
            if (rules[i] is not { } rule) { problems.Add(new(at, "expected an object, got null")); continue; }
            CheckOneOf(rule.Type, at + ".type", "device type", SpecNames.DeviceCgroupTypes, required: false, problems);
            if (rule.Access is { } access && (access.Length == 0 || access.Any(c => c is not ('r' or 'w' or 'm'))))
                problems.Add(new(at + ".access", $"invalid access {Text.Quote(access)}; expected some of the letters r, w and m"));
        }
    }

    private static void CheckSeccomp(LinuxSeccomp seccomp, List<SpecProblem> problems)
    {
        const string path = "$.linux.seccomp";
        CheckOneOf(seccomp.DefaultAction, path + ".defaultAction", "seccomp action", SpecNames.SeccompActions, required: true, problems);
        if (seccomp.Syscalls is not { } syscalls) return;
        for (int i = 0; i < syscalls.Count; i++)
        {
            string at = $"{path}.syscalls[{i}]";
            if (syscalls[i] is not { } syscall) { problems.Add(new(at, "expected an object, got null")); continue; }
            if (syscall.Names is not { Count: > 0 })
                problems.Add(new(at + ".names", "missing or empty; expected the names of the system calls"));
            CheckOneOf(syscall.Action, at + ".action", "seccomp action", SpecNames.SeccompActions, required: true, problems);
            if (syscall.Args is not { } args) continue;
            for (int k = 0; k < args.Count; k++)
            {
                if (args[k] is not { } arg) { problems.Add(new($"{at}.args[{k}]", "expected an object, got null")); continue; }
                CheckOneOf(arg.Op, $"{at}.args[{k}].op", "seccomp operator", SpecNames.SeccompOperators, required: true, problems);
                if (arg.Index > 5)
                    problems.Add(new($"{at}.args[{k}].index", $"{arg.Index} is out of range; a system call has arguments 0 to 5"));
            }
        }
    }

    private static void CheckPaths(List<string>? paths, string path, List<SpecProblem> problems)
    {
        if (paths is null) return;
        for (int i = 0; i < paths.Count; i++) CheckAbsolute(paths[i], $"{path}[{i}]", required: true, problems);
    }

    private static void CheckAbsolute(string? value, string path, bool required, List<SpecProblem> problems)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required) problems.Add(new(path, "missing; expected an absolute path"));
        }
        else if (!value.StartsWith('/'))
        {
            problems.Add(new(path, $"{Text.Quote(value)} is not an absolute path"));
        }
    }

    /// <summary>Returns true when <paramref name="value"/> is one of <paramref name="known"/>.</summary>
    private static bool CheckOneOf(string? value, string path, string what, IReadOnlyList<string> known, bool required, List<SpecProblem> problems)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required) problems.Add(new(path, $"missing; expected one of {Text.OneOf(known)}"));
            return false;
        }
        if (known.Contains(value)) return true;
        problems.Add(new(path, $"unknown {what} {Text.Quote(value)}; expected one of {Text.OneOf(known)}"));
        return false;
    }
}
