using System.Text.Json.Nodes;
using ClearOci.Native;
using ClearOci.Protocol;
using ClearOci.Vmm;

namespace ClearOci.Runtime;

/// <summary>
/// What the guest sees of the host's files: one virtio-fs share (tag <see cref="Tag"/>) whose
/// staging directory holds the bundle's rootfs and every host path config.json binds, each as its
/// own entry. The config sent to the guest names each bind's source as its path in the guest's
/// mount of that share, so the agent's ordinary bind of a guest path (with the mount's options)
/// does the rest. Sources under /proc, /sys and /dev stay guest paths: the guest has its own.
/// </summary>
public static class HostShares
{
    public const string Tag = "container";
    public const string RootfsName = "rootfs";
    private static readonly string[] GuestOwned = ["/proc", "/sys", "/dev"];

    public sealed record Plan(string ConfigJson, IReadOnlyList<HostBind> Binds);

    /// <summary>
    /// Rewrites the host binds of <paramref name="configJson"/> and lists what the share must hold (pure).
    /// <paramref name="under"/>: the entries live in that subdirectory of the share (a pod's later containers).
    /// </summary>
    public static Plan Build(string configJson, string bundle, string rootfs, string? under = null)
    {
        var config = JsonNode.Parse(configJson)?.AsObject() ?? throw ClearOciException.Invalid("empty config");
        var binds = new List<HostBind> { new(rootfs, RootfsName, Recursive: true, ReadOnly: false) };
        if (config["mounts"] is JsonArray mounts)
        {
            for (int i = 0; i < mounts.Count; i++)
            {
                if (mounts[i] is not JsonObject m) continue;
                var options = MountOptions.Parse((m["options"] as JsonArray)?.Select(o => o?.GetValue<string>() ?? "").ToList());
                if (!options.Bind && m["type"]?.GetValue<string>() != "bind") continue;
                if (m["source"]?.GetValue<string>() is not { Length: > 0 } source) continue;
                // runc resolves a relative source against the bundle.
                string full = Path.GetFullPath(source, bundle);
                if (GuestOwned.Any(p => full == p || full.StartsWith(p + "/", StringComparison.Ordinal))) continue;
                string name = $"m{i}";
                binds.Add(new HostBind(full, name, options.Recursive, (options.Flags & Libc.MS_RDONLY) != 0));
                m["source"] = under is null ? $"{ProtocolInfo.ShareMountPoint(Tag)}/{name}" : $"{ProtocolInfo.ShareMountPoint(Tag)}/{under}/{name}";
            }
        }
        return new Plan(config.ToJsonString(), binds);
    }
}
