using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClearOci.LifecycleTests;

/// <summary>
/// The container's network namespace (joined by path, as podman does) carried into the VM: a veth
/// end with addresses and routes in one test namespace, its peer in another acting as the outside.
/// </summary>
[TestFixture]
public sealed class NetworkTests : LifecycleFixture
{
    private readonly List<string> _namespaces = [];

    private static async Task<string> Sh(string command)
    {
        var psi = new ProcessStartInfo("sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.That(p.ExitCode, Is.EqualTo(0), $"`{command}` failed: {await err}");
        return output;
    }

    private static async Task<(int Code, string Output)> TrySh(string command)
    {
        var psi = new ProcessStartInfo("sh", ["-c", command + " 2>&1"]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, output);
    }

    // The host's busybox wget crashes (Debian 12); the outside uses curl, the container busybox.

    /// <summary>A named namespace pair joined by a veth: eth0 (10.200.0.2/24, fd00:200::2/64) inside, out0 (.1, ::1) outside.</summary>
    private async Task<(string Inside, string Outside, string Mac)> MakeNetworkAsync()
    {
        string unique = Path.GetFileName(WorkDir);
        string inside = $"{unique}-in", outside = $"{unique}-out";
        foreach (var ns in new[] { inside, outside })
        {
            await Sh($"ip netns add {ns}");
            _namespaces.Add(ns);
        }
        await Sh($"ip link add eth0 netns {inside} type veth peer name out0 netns {outside}");
        await Sh($"ip -n {outside} link set lo up && ip -n {outside} addr add 10.200.0.1/24 dev out0 && ip -n {outside} addr add fd00:200::1/64 dev out0 nodad && ip -n {outside} link set out0 up");
        await Sh($"ip -n {inside} addr add 10.200.0.2/24 dev eth0 && ip -n {inside} addr add fd00:200::2/64 dev eth0 nodad && ip -n {inside} link set eth0 mtu 1400 up" +
            $" && ip -n {inside} route add default via 10.200.0.1 && ip -n {inside} route add 198.51.100.0/24 via 10.200.0.1");
        string mac = (string)JsonNode.Parse(await Sh($"ip -n {inside} -j link show eth0"))![0]!["address"]!;
        return (inside, outside, mac);
    }

    [TearDown]
    public async Task DeleteNamespaces()
    {
        foreach (var ns in _namespaces) await TrySh($"ip netns del {ns}");
        _namespaces.Clear();
    }

    private void JoinNetworkNamespace(string? path) => EditConfig(c =>
    {
        var namespaces = c["linux"]!["namespaces"]!.AsArray();
        foreach (var n in namespaces.Where(n => (string?)n!["type"] == "network").ToList()) namespaces.Remove(n);
        var ns = new JsonObject { ["type"] = "network" };
        if (path != null) ns["path"] = path;
        namespaces.Add(ns);
    });

    [Test]
    public async Task NamespaceJoinedByPath_IsTheContainersNetworkInTheVm()
    {
        var (inside, outside, mac) = await MakeNetworkAsync();
        // A baseline through the bare veth, before the VM takes the interface over.
        string bare = await Sh($"ip netns exec {outside} busybox ping -c 5 -i 0.2 -q 10.200.0.2");
        JoinNetworkNamespace($"/var/run/netns/{inside}");
        SetArgs("sh", "-c", "ip addr; echo ==; cat /proc/net/route; echo ==; cat /proc/net/if_inet6; echo ==; " +
            "mkdir -p /tmp/www && echo hello-from-the-vm > /tmp/www/index.html && dd if=/dev/zero of=/tmp/www/big bs=1M count=10 2>/dev/null && echo ready && exec httpd -f -p 8080 -h /tmp/www");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(c, "ready", TimeSpan.FromSeconds(60));

        string[] parts = c.Stdout.Split("==\n");
        Assert.Multiple(() =>
        {
            Assert.That(parts[0], Does.Contain("eth0").And.Contain("inet 10.200.0.2/24").And.Contain(mac).And.Contain("mtu 1400"), "ip addr in the container");
            Assert.That(parts[0], Does.Contain("inet6 fd00:200::2/64"));
            Assert.That(Regex.IsMatch(parts[0], @"lo: <LOOPBACK,UP"), Is.True, "lo is up");
            Assert.That(parts[1], Does.Match(@"eth0\s+00000000\s+0100C80A\s"), "default route via 10.200.0.1 (/proc/net/route)");
            Assert.That(parts[1], Does.Match(@"eth0\s+006433C6\s+0100C80A\s"), "198.51.100.0/24 via 10.200.0.1");
            Assert.That(parts[2], Does.Contain("fd000200000000000000000000000002"), "the IPv6 address");
        });

        // From the outside namespace, over the mirrored veth, to the container's server in the VM.
        string page = await Poll.UntilAsync(async () => (await TrySh($"ip netns exec {outside} curl -sS --max-time 3 http://10.200.0.2:8080/index.html")).Output,
            o => o.Contains("hello-from-the-vm"), TimeSpan.FromSeconds(30), "wget from outside reaches the container");
        Assert.That(page, Does.Contain("hello-from-the-vm"));
        var v6 = await TrySh($"ip netns exec {outside} curl -sS -g --max-time 5 http://[fd00:200::2]:8080/index.html");
        Assert.That(v6.Output, Does.Contain("hello-from-the-vm"), "over IPv6 too");

        // Measurements for docs/PERFORMANCE.md.
        string mirrored = await Sh($"ip netns exec {outside} busybox ping -c 10 -i 0.2 -q 10.200.0.2");
        var big = await TrySh($"ip netns exec {outside} curl -sS --max-time 120 -o /dev/null -w '%{{size_download}} %{{time_total}}' http://10.200.0.2:8080/big");
        Assert.That(big.Code, Is.EqualTo(0), big.Output);
        var fields = big.Output.Trim().Split(' ');
        Assert.That(long.Parse(fields[0]), Is.EqualTo(10L << 20), "all 10 MiB arrived");
        double seconds = double.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
        TestContext.Out.WriteLine($"ping over the bare veth: {bare.Trim().Split('\n').Last()}");
        TestContext.Out.WriteLine($"ping into the VM (tc mirred + virtio-net): {mirrored.Trim().Split('\n').Last()}");
        TestContext.Out.WriteLine($"10 MiB over HTTP from the VM: {seconds * 1000:0} ms ({10.0 / seconds:0.0} MiB/s)");
    }

    [Test]
    public async Task NewEmptyNamespace_TheContainerSeesOnlyLoUp()
    {
        JoinNetworkNamespace(null); // as docker --network none
        SetArgs("sh", "-c", "ip -o link; echo ==; ip -o addr");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 0, 0)), c.Stderr);
        string[] parts = c.Stdout.Split("==\n");
        // The guest kernel's IPv6 built-in sit0 fallback tunnel exists, down, in every namespace of
        // the guest (CONFIG_IPV6_SIT): not an interface of the host's.
        var links = parts[0].Trim().Split('\n').Where(l => !l.Contains("link/sit 0.0.0.0")).ToArray();
        Assert.That(links, Has.Length.EqualTo(1), c.Stdout);
        Assert.That(links[0], Does.Contain("lo:").And.Contain("UP"), "lo is up");
        Assert.That(parts[0], Does.Not.Contain("link/ether"), "no NIC");
        Assert.That(parts[1].Trim().Split('\n').Select(l => l.Split(' ')[1]).Distinct(), Is.EqualTo(new[] { "lo" }), "addresses only on lo");
        Assert.That(parts[1], Does.Contain("inet 127.0.0.1/8"));
    }

    /// <summary>
    /// docker's embedded DNS: a nameserver on 127.0.0.11 of the namespace on the host (which the
    /// guest's own lo cannot reach) answers the container in the VM, over UDP (the resolver) and TCP.
    /// </summary>
    [Test]
    public async Task LoopbackNameserverOfTheNamespace_AnswersTheContainer()
    {
        string ns = $"{Path.GetFileName(WorkDir)}-dns";
        await Sh($"ip netns add {ns}");
        _namespaces.Add(ns);
        await Sh($"ip -n {ns} link set lo up");
        using var dns = new FakeNameserver($"/var/run/netns/{ns}", IPAddress.Parse("127.0.0.11"), new() { ["srv.test"] = IPAddress.Parse("192.0.2.7") });
        string resolv = Path.Combine(WorkDir, "resolv.conf");
        File.WriteAllText(resolv, "nameserver 127.0.0.11\noptions ndots:0\n");
        JoinNetworkNamespace($"/var/run/netns/{ns}");
        EditConfig(c => c["mounts"]!.AsArray().Add(new JsonObject
        {
            ["destination"] = "/etc/resolv.conf", ["type"] = "bind", ["source"] = resolv, ["options"] = new JsonArray("rbind", "ro"),
        }));
        // The same question over TCP (id 0x1234, RD, A srv.test IN), after its 2-byte length prefix (26).
        const string tcpQuery = @"\000\032\022\064\001\000\000\001\000\000\000\000\000\000\003srv\004test\000\000\001\000\001";
        // Then, for docs/PERFORMANCE.md, 20 lookups (an A and an AAAA query each) through the relay,
        // and 20 spawns of `cat` alone (what a process costs in the guest under TCG).
        const string lookups = "i=0; while [ $i -lt 20 ]; do nslookup srv.test 127.0.0.11 >/dev/null || exit 1; i=$((i+1)); done";
        const string spawns = "i=0; while [ $i -lt 20 ]; do cat /dev/null; i=$((i+1)); done";
        SetArgs("sh", "-c", $"nslookup srv.test; echo ==; printf '{tcpQuery}' | nc -w 3 127.0.0.11 53 | od -An -tx1; time sh -c '{lookups}'; time sh -c '{spawns}'");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        var exit = ReapExit(c, TimeSpan.FromSeconds(90));
        string[] parts = c.Stdout.Split("==\n");
        Assert.That(parts, Has.Length.EqualTo(2), $"{exit}: {c.Stdout} {c.Stderr}");
        string tcpAnswer = string.Join(' ', parts[1].Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(new WaitResult(true, 0, 0)), c.Stderr);
            Assert.That(parts[0], Does.Contain("192.0.2.7"), "nslookup over UDP, through the relay");
            Assert.That(dns.UdpQueries, Is.GreaterThan(0), "the nameserver in the namespace was asked over UDP");
            Assert.That(tcpAnswer, Does.StartWith("00 2a 12 34 81 80 00 01 00 01").And.EndWith("c0 00 02 07"), "the framed answer over TCP");
            Assert.That(dns.TcpQueries, Is.EqualTo(1), "and over TCP");
        });
        // The same lookups from inside the namespace on the host (the baseline, same run).
        var direct = await TrySh($"ip netns exec {ns} busybox time sh -c '{lookups}'");
        Assert.That(direct.Code, Is.EqualTo(0), direct.Output);
        var real = Regex.Matches(c.Stderr, @"real\s+(\S+ \S+)").Select(m => m.Groups[1].Value).ToList();
        TestContext.Out.WriteLine($"20 nslookups (A + AAAA) in the namespace on the host: {Regex.Match(direct.Output, @"real\s+(\S+ \S+)").Groups[1].Value}; " +
            $"from the VM through the relay: {real.ElementAtOrDefault(0)}; 20 spawns of cat alone in the VM: {real.ElementAtOrDefault(1)}");
    }
}
