namespace ClearOci.Spec;

/// <summary>The closed sets of names that <c>config.json</c> may use, as the runtime-spec defines them.</summary>
public static class SpecNames
{
    public static IReadOnlyList<string> Namespaces { get; } =
        ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];

    public static IReadOnlyList<string> Rlimits { get; } =
    [
        "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS",
        "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
        "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
    ];

    public static IReadOnlyList<string> SeccompActions { get; } =
    [
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
    ];

    public static IReadOnlyList<string> SeccompOperators { get; } =
    [
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    ];

    public static IReadOnlyList<string> RootfsPropagations { get; } =
        ["private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"];

    /// <summary>Device node types of <c>linux.devices</c>.</summary>
    public static IReadOnlyList<string> DeviceTypes { get; } = ["c", "b", "u", "p"];

    /// <summary>Device types of <c>linux.resources.devices</c> rules.</summary>
    public static IReadOnlyList<string> DeviceCgroupTypes { get; } = ["a", "c", "b"];

    public static IReadOnlyList<string> PersonalityDomains { get; } = ["LINUX", "LINUX32"];
}
