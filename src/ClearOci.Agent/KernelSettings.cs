using System.Text;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>The container's namespaced kernel settings: hostname, domainname, sysctls; and the LSM fields the guest cannot apply.</summary>
internal static class KernelSettings
{
    public static void SetNames(OciSpec spec)
    {
        if (!string.IsNullOrEmpty(spec.Hostname))
            Libc.Check(Libc.sethostname(spec.Hostname, Encoding.UTF8.GetByteCount(spec.Hostname)), "sethostname");
        if (!string.IsNullOrEmpty(spec.Domainname))
            Libc.Check(Libc.setdomainname(spec.Domainname, Encoding.UTF8.GetByteCount(spec.Domainname)), "setdomainname");
    }

    /// <summary>Writes each sysctl under /proc/sys: the container's proc, so in its own ipc, uts and net namespaces.</summary>
    public static void WriteSysctls(IReadOnlyDictionary<string, string>? sysctls)
    {
        foreach (var (key, value) in sysctls ?? new Dictionary<string, string>())
        {
            string path = SysctlPath(key);
            try { File.WriteAllText(path, value); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ClearOciException(ErrorCode.InvalidArgument, $"sysctl {key}={value}: write {path}: {e.Message}");
            }
        }
    }

    /// <summary>"net.ipv4.ip_forward" is net/ipv4/ip_forward; a key already written with slashes keeps its dots ("net/ipv4/conf/eth0.100/forwarding").</summary>
    public static string SysctlPath(string key)
    {
        string rel = key.Contains('/') ? key : key.Replace('.', '/');
        if (rel.Split('/').Any(p => p is "" or "." or ".."))
            throw ClearOciException.Invalid($"sysctl {key}: not a valid name");
        return "/proc/sys/" + rel;
    }

    /// <summary>The guest kernel has no AppArmor or SELinux: say so on the console (features and docs say it too).</summary>
    public static void NoteUnsupportedLabels(Process process, OciSpec spec)
    {
        if (!string.IsNullOrEmpty(process.ApparmorProfile))
            StageLog.Write($"apparmorProfile \"{process.ApparmorProfile}\" not applied: the guest kernel has no AppArmor");
        if (!string.IsNullOrEmpty(process.SelinuxLabel))
            StageLog.Write($"selinuxLabel \"{process.SelinuxLabel}\" not applied: the guest kernel has no SELinux");
        if (!string.IsNullOrEmpty(spec.Linux?.MountLabel))
            StageLog.Write($"mountLabel \"{spec.Linux.MountLabel}\" not applied: the guest kernel has no SELinux");
    }
}
