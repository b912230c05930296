using ClearOci.Client;
using ClearOci.Protocol;
using ClearOci.Runtime;
using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Tests;

/// <summary>What the host relays for the guest: the loopback nameservers of the container's resolv.conf, and only those.</summary>
public class DnsRelayTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [TestCase("nameserver 127.0.0.11\noptions ndots:0\n", new[] { "127.0.0.11" }, TestName = "docker's user-defined network")]
    [TestCase("# comment\nnameserver 10.0.0.2\nnameserver\t127.0.0.53\r\nnameserver ::1\n", new[] { "127.0.0.53", "::1" }, TestName = "tabs, CRLF, IPv6")]
    [TestCase("nameserver 8.8.8.8\nnameserver 1.1.1.1\nnameserver 9.9.9.9\nnameserver 127.0.0.1\n", new string[0], TestName = "a fourth nameserver is never asked")]
    [TestCase("nameserver 127.0.0.11\nnameserver 127.0.0.11\nsearch example\n", new[] { "127.0.0.11" }, TestName = "duplicates")]
    [TestCase("nameserver localhost\nnameservers 127.0.0.1\n#nameserver 127.0.0.2\n", new string[0], TestName = "not addresses, not the keyword")]
    [TestCase("nameserver 0:0:0:0:0:0:0:1\n", new[] { "::1" }, TestName = "canonical form")]
    public void LoopbackNameservers(string resolvConf, string[] expected) =>
        Assert.That(ResolvConf.LoopbackNameservers(resolvConf), Is.EqualTo(expected));

    [Test]
    public void Read_TakesTheBindOntoResolvConf_ElseTheRootfsFile_NeverASymlink()
    {
        string dir = Directory.CreateTempSubdirectory("clearoci-dns-").FullName;
        try
        {
            string rootfs = Path.Combine(dir, "rootfs");
            Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
            File.WriteAllText(Path.Combine(rootfs, "etc/resolv.conf"), "nameserver 127.0.0.2\n");
            File.WriteAllText(Path.Combine(dir, "engine-resolv.conf"), "nameserver 127.0.0.11\n");
            var none = new OciSpec();
            var bound = new OciSpec
            {
                Mounts = [new Mount { Destination = "/etc/resolv.conf", Source = "engine-resolv.conf", Options = ["rbind", "ro"] }],
            };
            Assert.That(ResolvConf.Read(bound, dir, rootfs), Is.EqualTo("nameserver 127.0.0.11\n"), "the engine's bind, relative to the bundle");
            Assert.That(ResolvConf.Read(none, dir, rootfs), Is.EqualTo("nameserver 127.0.0.2\n"), "the image's own");
            File.Delete(Path.Combine(rootfs, "etc/resolv.conf"));
            File.CreateSymbolicLink(Path.Combine(rootfs, "etc/resolv.conf"), "/etc/hostname");
            Assert.That(ResolvConf.Read(none, dir, rootfs), Is.Null, "a symlink would resolve against the host's root");
            Assert.That(ResolvConf.Read(none, dir, Path.Combine(dir, "missing")), Is.Null);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void Plan_NoRelayForANewEmptyNamespace_TheCallersForTheHostNetwork()
    {
        string dir = Directory.CreateTempSubdirectory("clearoci-dns-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "r.conf"), "nameserver 127.0.0.53\n");
            var mounts = new List<Mount> { new() { Destination = "/etc/resolv.conf", Type = "bind", Source = Path.Combine(dir, "r.conf") } };
            var hostNetwork = new OciSpec { Mounts = mounts, Linux = new Linux { Namespaces = [new LinuxNamespace { Type = "mount" }] } };
            var ownNetwork = new OciSpec { Mounts = mounts, Linux = new Linux { Namespaces = [new LinuxNamespace { Type = "network" }] } };
            var (servers, reach) = DnsRelay.Plan(hostNetwork, dir, dir, network: null);
            Assert.That(servers, Is.EqualTo(new[] { "127.0.0.53" }));
            Assert.That(reach, Is.Not.Null);
            var (none, noReach) = DnsRelay.Plan(ownNetwork, dir, dir, network: null);
            Assert.That(none, Is.Empty, "a new namespace without a mirror has only lo: nothing to reach");
            Assert.That(noReach, Is.Null);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>The host's AgentClient, and the guest's end of its control channel.</summary>
    private static (AgentClient Agent, ControlChannel Guest) Connected()
    {
        var (ctlHost, ctlGuest) = InMemoryDuplex.CreatePair();
        var (ioHost, _) = InMemoryDuplex.CreatePair();
        return (new AgentClient(ctlHost, ioHost), new ControlChannel(ctlGuest));
    }

    [Test]
    public async Task AQueryForAServerNotRelayed_IsAnsweredEmpty_WithoutASocket()
    {
        var (agent, guest) = Connected();
        using var _ = agent;
        await using var __ = guest;
        int sockets = 0;
        using var relay = DnsRelay.Start(agent, ["127.0.0.11"], make => { Interlocked.Increment(ref sockets); return make(); });
        Assert.That(relay, Is.Not.Null);
        await guest.SendAsync(new DnsQuery { Query = 3, Server = "10.1.2.3", Data = [1, 2] });
        Assert.That(await guest.ReceiveAsync().WaitAsync(Timeout), Is.EqualTo(new DnsAnswer { Query = 3 }));
        Assert.That(sockets, Is.EqualTo(0), "nothing was asked on the guest's behalf");
        Assert.That(DnsRelay.Start(agent, [], make => make()), Is.Null, "nothing to relay: no relay");
    }

    [Test]
    public async Task Oversized_OrEmpty_AndTooManyQueries_AreAnsweredEmpty_WithoutASocket()
    {
        var (agent, guest) = Connected();
        using var _ = agent;
        await using var __ = guest;
        int sockets = 0;
        var hold = new ManualResetEventSlim();
        // Every socket "creation" blocks until released: the queries stay in flight.
        using var relay = DnsRelay.Start(agent, ["127.0.0.11"], make => { Interlocked.Increment(ref sockets); hold.Wait(Timeout); throw new System.Net.Sockets.SocketException(111); });
        await guest.SendAsync(new DnsQuery { Query = 1, Server = "127.0.0.11", Data = new byte[70_000] });
        await guest.SendAsync(new DnsQuery { Query = 2, Server = "127.0.0.11", Data = [] });
        Assert.That(await guest.ReceiveAsync().WaitAsync(Timeout), Is.EqualTo(new DnsAnswer { Query = 1 }).Or.EqualTo(new DnsAnswer { Query = 2 }));
        Assert.That(await guest.ReceiveAsync().WaitAsync(Timeout), Is.EqualTo(new DnsAnswer { Query = 1 }).Or.EqualTo(new DnsAnswer { Query = 2 }));
        Assert.That(sockets, Is.EqualTo(0), "malformed queries never reach a socket");

        for (int i = 0; i < DnsRelay.MaxInFlight + 3; i++)
            await guest.SendAsync(new DnsQuery { Query = 100 + i, Server = "127.0.0.11", Data = [1] });
        var early = new HashSet<long>();
        for (int i = 0; i < 3; i++) early.Add(((DnsAnswer)(await guest.ReceiveAsync().WaitAsync(Timeout))!).Query);
        Assert.That(early, Is.EquivalentTo(new long[] { 100 + DnsRelay.MaxInFlight, 101 + DnsRelay.MaxInFlight, 102 + DnsRelay.MaxInFlight }),
            "beyond the cap, queries are answered (empty) at once");
        hold.Set();
        var rest = new HashSet<long>();
        for (int i = 0; i < DnsRelay.MaxInFlight; i++) rest.Add(((DnsAnswer)(await guest.ReceiveAsync().WaitAsync(Timeout))!).Query);
        Assert.That(rest, Is.EquivalentTo(Enumerable.Range(100, DnsRelay.MaxInFlight).Select(i => (long)i)), "the queries in flight are answered once they end");
        Assert.That(sockets, Is.EqualTo(DnsRelay.MaxInFlight));
    }
}
