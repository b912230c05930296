using ClearOci.Spec;

namespace ClearOci.Tests;

/// <summary>The guest's own /etc/hostname, /etc/hosts and /etc/resolv.conf, rendered from a config.</summary>
public sealed class GuestEtcFilesTests
{
    private const string Localhost = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

    private static OciSpec WithResolvBind(params string[] sources) => new()
    {
        Mounts = [.. sources.Select(s => new Mount { Destination = "/etc/resolv.conf", Type = "bind", Source = s, Options = ["rbind"] })],
    };

    [Test]
    public void Default_IsLocalhostWithNoNameserver()
    {
        var d = GuestEtcFiles.Default;
        Assert.That(d.Hostname, Is.EqualTo("localhost"));
        Assert.That(d.Hosts, Is.EqualTo(Localhost));
        Assert.That(d.ResolvConf, Is.Empty);
        Assert.That(d.Nameservers, Is.Zero);
    }

    [Test]
    public void Render_WithHostname_UsesItOn127011()
    {
        var f = GuestEtcFiles.Render(new OciSpec { Hostname = "web1" }, "abc", "nameserver 10.0.0.1\n");
        Assert.That(f.Hostname, Is.EqualTo("web1"));
        Assert.That(f.Hosts, Is.EqualTo(Localhost + "127.0.1.1\tweb1\n"));
        Assert.That(f.ResolvConf, Is.EqualTo("nameserver 10.0.0.1\n"));
    }

    [TestCase(null)]
    [TestCase("")]
    public void Render_WithoutHostname_UsesTheContainerId(string? hostname)
    {
        var f = GuestEtcFiles.Render(new OciSpec { Hostname = hostname }, "my-container", null);
        Assert.That(f.Hostname, Is.EqualTo("my-container"));
        Assert.That(f.Hosts, Does.EndWith("127.0.1.1\tmy-container\n"));
        Assert.That(f.ResolvConf, Is.Empty);
    }

    [Test]
    public void Render_WithLongId_CutsItTo64()
    {
        string id = new string('a', 70) + "b";
        var f = GuestEtcFiles.Render(new OciSpec(), id, null);
        Assert.That(f.Hostname, Is.EqualTo(new string('a', 64)));
    }

    [Test]
    public void Nameservers_CountsOnlyNameserverLinesWithAnAddress()
    {
        var f = GuestEtcFiles.Render(new OciSpec(), "c",
            "# nameserver 9.9.9.9\nsearch example.com\nnameserver 10.0.0.1\n\tnameserver\t::1\nnameserver\noptions ndots:2\nnameserver 1.1.1.1");
        Assert.That(f.Nameservers, Is.EqualTo(3));
    }

    [Test]
    public void ResolvConfSource_TakesTheLastBindAtResolvConf()
    {
        var spec = WithResolvBind("/run/clearoci/shares/s/a", "/run/clearoci/shares/s/b");
        spec.Mounts!.Add(new Mount { Destination = "/etc/hosts", Type = "bind", Source = "/x/hosts" });
        Assert.That(GuestEtcFiles.ResolvConfSource(spec), Is.EqualTo("/run/clearoci/shares/s/b"));
    }

    [TestCase("/etc//resolv.conf")]
    [TestCase("/etc/./resolv.conf/")]
    public void ResolvConfSource_MatchesAnUncleanDestination(string destination)
    {
        var spec = new OciSpec { Mounts = [new Mount { Destination = destination, Type = "bind", Source = "/s/r" }] };
        Assert.That(GuestEtcFiles.ResolvConfSource(spec), Is.EqualTo("/s/r"));
    }

    [Test]
    public void ResolvConfSource_WithoutSuchMount_IsNull()
    {
        var spec = new OciSpec { Mounts = [new Mount { Destination = "/etc/resolv.conf.d", Type = "bind", Source = "/s/r" }] };
        Assert.That(GuestEtcFiles.ResolvConfSource(spec), Is.Null);
        Assert.That(GuestEtcFiles.ResolvConfSource(new OciSpec()), Is.Null);
    }
}
