using System.Text.Json.Nodes;

namespace ClearOci.Client;

/// <summary>
/// The OCI features document, telling the truth: what the guest applies today. Anything the
/// guest does not enforce yet is absent or marked disabled (see docs/KNOWN-GAPS.md).
/// </summary>
public static class Features
{
    public static JsonObject Build() => new()
    {
        ["ociVersionMin"] = "1.0.0",
        ["ociVersionMax"] = "1.2.0",
        ["hooks"] = Array("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"),
        ["mountOptions"] = Array("ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async", "dirsync", "remount",
            "mand", "nomand", "atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime",
            "lazytime", "nolazytime", "bind", "rbind", "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
            "tmpcopyup"),
        ["linux"] = new JsonObject
        {
            // Created inside the guest; "user" and "time" are not. A cgroup namespace is rooted at the container's group.
            ["namespaces"] = Array("cgroup", "ipc", "mount", "network", "pid", "uts"),
            // Every capability the guest kernel (6.1) knows: bounding, effective, inheritable, permitted and ambient are applied.
            ["capabilities"] = Array([.. ClearOci.Native.Capabilities.Names]),
            ["cgroup"] = new JsonObject { ["v1"] = false, ["v2"] = false, ["systemd"] = false, ["systemdUser"] = false, ["rdma"] = false },
            ["seccomp"] = SeccompFeatures(),
            // The guest kernel has no LSM: apparmorProfile, selinuxLabel and mountLabel are ignored (logged on the guest console).
            ["apparmor"] = new JsonObject { ["enabled"] = false },
            ["selinux"] = new JsonObject { ["enabled"] = false },
            ["intelRdt"] = new JsonObject { ["enabled"] = false },
            ["mountExtensions"] = new JsonObject { ["idmap"] = new JsonObject { ["enabled"] = false } },
        },
        ["annotations"] = new JsonObject
        {
            ["org.clearoci.vm"] = "one VM per container (QEMU; KVM or TCG)",
            ["org.clearoci.guest.ignored"] = "process.apparmorProfile, process.selinuxLabel, linux.mountLabel (no LSM in the guest kernel); " +
                "process.execCPUAffinity, linux.timeOffsets, linux.intelRdt (not applied yet)",
            ["org.clearoci.version"] = typeof(Features).Assembly.GetName().Version?.ToString() ?? "0",
        },
    };

    /// <summary>Compiled in the guest (ClearOci.Seccomp); SCMP_ACT_NOTIFY and listenerPath are refused.</summary>
    private static JsonObject SeccompFeatures() => new()
    {
        ["enabled"] = true,
        ["actions"] = Array([.. Seccomp.SeccompCompiler.Actions]),
        ["operators"] = Array([.. Seccomp.SeccompCompiler.Operators]),
        ["archs"] = Array([.. Seccomp.SeccompCompiler.Architectures]),
        ["knownFlags"] = Array([.. Seccomp.SeccompCompiler.Flags, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]),
        ["supportedFlags"] = Array([.. Seccomp.SeccompCompiler.Flags]),
    };

    private static JsonArray Array(params string[] items) => new(items.Select(i => (JsonNode)JsonValue.Create(i)!).ToArray());
}
