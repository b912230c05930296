using System.Text.Json.Nodes;
using ClearOci.Client;
using ClearOci.Runtime;
using ClearOci.Vmm;

namespace ClearOci.Tests;

public class HostSharesTests
{
    private const string Share = "/run/clearoci/shares/container";

    private static string Config(params string[] mounts) => $$"""{"ociVersion":"1.2.0","root":{"path":"rootfs"},"mounts":[{{string.Join(',', mounts)}}]}""";

    private static JsonArray Mounts(string json) => JsonNode.Parse(json)!["mounts"]!.AsArray();

    [Test]
    public void HostBinds_AreStagedAndTheirSourcesRewritten()
    {
        var plan = HostShares.Build(Config(
            """{"destination":"/proc","type":"proc","source":"proc"}""",
            """{"destination":"/data","type":"bind","source":"/srv/data","options":["rbind","rw"]}""",
            """{"destination":"/etc/resolv.conf","source":"/var/lib/docker/containers/x/resolv.conf","options":["bind","ro","nosuid"]}"""),
            "/bundles/b", "/bundles/b/rootfs");
        Assert.That(plan.Binds, Is.EqualTo(new[]
        {
            new HostBind("/bundles/b/rootfs", "rootfs", Recursive: true, ReadOnly: false),
            new HostBind("/srv/data", "m1", Recursive: true, ReadOnly: false),
            new HostBind("/var/lib/docker/containers/x/resolv.conf", "m2", Recursive: false, ReadOnly: true),
        }));
        var mounts = Mounts(plan.ConfigJson);
        Assert.That((string?)mounts[0]!["source"], Is.EqualTo("proc"), "not a bind: untouched");
        Assert.That((string?)mounts[1]!["source"], Is.EqualTo($"{Share}/m1"));
        Assert.That((string?)mounts[2]!["source"], Is.EqualTo($"{Share}/m2"));
        Assert.That(mounts[2]!["options"]!.AsArray().Select(o => (string?)o), Is.EqualTo(new[] { "bind", "ro", "nosuid" }), "options reach the guest as they were");
        Assert.That((string?)JsonNode.Parse(plan.ConfigJson)!["ociVersion"], Is.EqualTo("1.2.0"), "the rest of the config is kept");
    }

    [Test]
    public void GuestOwnedSources_AndRelativeSources()
    {
        var plan = HostShares.Build(Config(
            """{"destination":"/dev/null2","type":"bind","source":"/dev/null","options":["bind"]}""",
            """{"destination":"/sys/x","type":"bind","source":"/sys/fs/cgroup","options":["rbind"]}""",
            """{"destination":"/cfg","type":"bind","source":"conf/../cfg","options":["rbind"]}""",
            """{"destination":"/devices","type":"bind","source":"/devices","options":["rbind"]}"""),
            "/bundles/b", "/bundles/b/rootfs");
        var mounts = Mounts(plan.ConfigJson);
        Assert.That((string?)mounts[0]!["source"], Is.EqualTo("/dev/null"), "the guest has its own /dev");
        Assert.That((string?)mounts[1]!["source"], Is.EqualTo("/sys/fs/cgroup"), "and its own /sys");
        Assert.That(plan.Binds.Select(b => b.Source), Is.EqualTo(new[] { "/bundles/b/rootfs", "/bundles/b/cfg", "/devices" }),
            "a relative source is the bundle's (as runc has it); /devices is not /dev");
    }

    [Test]
    public void NoMounts_OnlyTheRootfs()
    {
        var plan = HostShares.Build("""{"ociVersion":"1.2.0"}""", "/b", "/b/rootfs");
        Assert.That(plan.Binds, Has.Count.EqualTo(1));
        Assert.That(plan.Binds[0].Name, Is.EqualTo(HostShares.RootfsName));
    }

    [Test]
    public void PodContainer_EntriesLiveInItsSubdirectory()
    {
        var plan = HostShares.Build(Config("""{"destination":"/data","type":"bind","source":"/srv/data","options":["rbind"]}"""),
            "/b", "/b/rootfs", under: "pod-app");
        Assert.That(plan.Binds.Select(b => b.Name), Is.EqualTo(new[] { "rootfs", "m0" }), "names stay one component (the caller makes the subdirectory)");
        Assert.That((string?)Mounts(plan.ConfigJson)[0]!["source"], Is.EqualTo($"{Share}/pod-app/m0"));
    }
}
