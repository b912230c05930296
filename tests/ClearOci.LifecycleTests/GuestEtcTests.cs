using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// The guest's own /etc is made at each boot: the agent writes hostname, hosts and resolv.conf from
/// the VM's first container's config and says so on the guest console (STATE/ID/console.log).
/// </summary>
[TestFixture]
public sealed class GuestEtcTests : LifecycleFixture
{
    [Test]
    public async Task Create_WithHostnameAndResolvConfBind_GuestEtcFollowsTheConfig()
    {
        string resolv = Path.Combine(WorkDir, "resolv.conf");
        File.WriteAllText(resolv, "search example.test\nnameserver 192.0.2.1\nnameserver 192.0.2.2\n# nameserver 192.0.2.3\nnameserver 2001:db8::1\n");
        string hostname = $"etc-{Path.GetFileName(WorkDir)}";
        EditConfig(c =>
        {
            c["hostname"] = hostname;
            var mounts = c["mounts"] as JsonArray ?? new JsonArray();
            mounts.Add(new JsonObject
            {
                ["destination"] = "/etc/resolv.conf", ["type"] = "bind", ["source"] = resolv,
                ["options"] = new JsonArray("rbind", "ro"),
            });
            c["mounts"] = mounts;
        });
        SetArgs("sh", "-c", "cat /etc/resolv.conf; echo ready; exec sleep 1000");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(c, "ready");
        Assert.That(c.Stdout, Does.Contain("nameserver 192.0.2.2\n"), "the container sees the bound file");

        string console = Path.Combine(StateRoot, id, "console.log");
        string log = await Poll.UntilAsync(() => Created.ReadShared(console), s => s.Contains("guest /etc: hostname " + hostname, StringComparison.Ordinal),
            StatusDeadline, "the agent's guest /etc line");
        var lines = log.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Contains("guest /etc: hostname", StringComparison.Ordinal)).ToList();
        Assert.That(lines.Last(), Does.EndWith($"guest /etc: hostname {hostname}, 3 nameservers"), log);
        // At boot, before any container: the defaults.
        Assert.That(lines.First(), Does.Contain("guest /etc: hostname localhost, 0 nameservers"), log);
    }
}
