using System.Text.Json.Nodes;
using System.Text;
using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Protocol;
using ClearOci.Vmm;

namespace ClearOci.Runtime;

/// <summary>
/// Carries the container's network namespace (as the engine set it up: docker's veth, podman's
/// netavark namespace) into the VM. For each interface but lo, a tap is made in the same namespace
/// and tc mirrors the two both ways (ingress of one is redirected to the egress of the other), so
/// the namespace's own stack never sees the traffic; QEMU gets the tap's fd and the guest a
/// virtio-net NIC with the interface's MAC, addresses, MTU and routes.
///
/// Interfaces are listed, and the taps made, from a thread that joined the namespace; `ip` and
/// `tc` (iproute2, found on every docker or podman host) are run from that thread for the link
/// state, the addresses, the routes and the filters: their JSON output and the tc command line are
/// stable interfaces, and rtnetlink plus tc's netlink attributes in C# would be several hundred
/// lines for the same effect. The tap itself is made with TUNSETIFF.
/// </summary>
public sealed class NetworkMirror : IDisposable
{
    private readonly int _netns;
    private readonly List<string> _mirrored = new();

    private NetworkMirror(int netns) => _netns = netns;

    /// <summary>Open taps (fd, guest MAC) for QEMU; the VM closes them once QEMU holds them.</summary>
    public List<(int Fd, string Mac)> Taps { get; } = new();
    public List<GuestInterface> Interfaces { get; } = new();

    /// <summary>Mirrors every interface of the namespace open on <paramref name="netnsFd"/> (taken over: closed on Dispose).</summary>
    public static NetworkMirror Create(int netnsFd)
    {
        var mirror = new NetworkMirror(netnsFd);
        try
        {
            NamespaceThread.InNetwork(netnsFd, () =>
            {
                foreach (var name in ListInterfaces())
                {
                    if (Describe(name) is not { } guest) continue;
                    mirror.Mirror(guest);
                }
                return 0;
            });
            return mirror;
        }
        catch
        {
            mirror.Dispose();
            throw;
        }
    }

    /// <summary>Interfaces of the calling thread's namespace but lo (/proc/thread-self/net/dev needs no tool).</summary>
    private static List<string> ListInterfaces() =>
        File.ReadLines("/proc/thread-self/net/dev").Skip(2)
            .Select(l => l.Split(':')[0].Trim()).Where(n => n.Length > 0 && n != "lo").ToList();

    /// <summary>An Ethernet interface's guest configuration; null for what cannot be mirrored (a tap, a tunnel).</summary>
    private static GuestInterface? Describe(string name)
    {
        var link = JsonNode.Parse(HostCommand.Ip(["-j", "-d", "addr", "show", "dev", name]))?.AsArray().FirstOrDefault()?.AsObject()
            ?? throw new ClearOciException(ErrorCode.System, $"ip addr show dev {name}: no output");
        if ((string?)link["link_type"] != "ether" || (string?)link["linkinfo"]?["info_kind"] == "tun") return null;
        var addresses = (link["addr_info"]?.AsArray() ?? [])
            .Where(a => (string?)a?["scope"] == "global")
            .Select(a => $"{(string?)a!["local"]}/{(int?)a["prefixlen"]}").ToList();
        var routes = new List<GuestRoute>();
        foreach (var family in (string[])["-4", "-6"])
            foreach (var r in JsonNode.Parse(HostCommand.Ip(["-j", family, "route", "show", "dev", name]))?.AsArray() ?? [])
            {
                // Routes the kernel makes for an address reappear by themselves in the guest.
                if ((string?)r?["protocol"] == "kernel" || (string?)r?["dst"] is not { } dst) continue;
                routes.Add(new GuestRoute(dst, (string?)r["gateway"]));
            }
        return new GuestInterface
        {
            Name = name,
            Mac = (string?)link["address"] ?? throw new ClearOciException(ErrorCode.System, $"{name} has no MAC address"),
            Mtu = (int?)link["mtu"] ?? 1500,
            Addresses = addresses,
            // On-link routes first: a gateway must be reachable when its route is added.
            Routes = routes.OrderBy(r => r.Gateway is null ? 0 : 1).ToList(),
        };
    }

    private void Mirror(GuestInterface guest)
    {
        var (fd, tap) = Tap.Open();
        Taps.Add((fd, guest.Mac));
        Interfaces.Add(guest);
        HostCommand.Ip(["link", "set", "dev", tap, "mtu", guest.Mtu.ToString(), "up"]);
        // A previous container of this namespace may have left its qdisc: start clean.
        HostCommand.Tc(["qdisc", "del", "dev", guest.Name, "ingress"], mayFail: true);
        _mirrored.Add(guest.Name);
        Redirect(guest.Name, tap);
        Redirect(tap, guest.Name);
        DebugLog.Write($"network: {guest.Name} ({guest.Mac}, {string.Join(' ', guest.Addresses)}) mirrored to {tap}");
    }

    private static void Redirect(string from, string to)
    {
        HostCommand.Tc(["qdisc", "add", "dev", from, "ingress"]);
        HostCommand.Tc(["filter", "add", "dev", from, "parent", "ffff:", "protocol", "all", "u32", "match", "u8", "0", "0",
            "action", "mirred", "egress", "redirect", "dev", to]);
    }

    /// <summary>Runs <paramref name="work"/> on a thread in the container's namespace (a socket made there stays there).</summary>
    public T InNamespace<T>(Func<T> work) => NamespaceThread.InNetwork(_netns, work);

    /// <summary>Once QEMU has its copies: a tap then lives exactly as long as the VM.</summary>
    public void CloseTaps()
    {
        foreach (var (fd, _) in Taps) Libc.close(fd);
        Taps.Clear();
    }

    /// <summary>Removes the mirrors from the namespace's interfaces (the taps die with QEMU), closes what is still open.</summary>
    public void Dispose()
    {
        CloseTaps();
        if (_mirrored.Count > 0)
        {
            try { NamespaceThread.InNetwork(_netns, () => { foreach (var n in _mirrored) HostCommand.Tc(["qdisc", "del", "dev", n, "ingress"], mayFail: true); return 0; }); }
            catch (ClearOciException e) { DebugLog.Write($"network: removing the mirrors: {e.Message}"); }
            _mirrored.Clear();
        }
        Libc.close(_netns);
    }

    /// <summary>TUNSETIFF on /dev/net/tun: a tap in the calling thread's namespace, named by the kernel.</summary>
    private static unsafe class Tap
    {
        private const ulong TUNSETIFF = 0x400454ca;
        private const short IFF_TAP = 0x0002, IFF_NO_PI = 0x1000, IFF_VNET_HDR = 0x4000;

        public static (int Fd, string Name) Open()
        {
            int fd = Libc.Check(Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/net/tun");
            byte* ifr = stackalloc byte[40];
            new Span<byte>(ifr, 40).Clear();
            "clearoci%d"u8.CopyTo(new Span<byte>(ifr, 16));
            *(short*)(ifr + 16) = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
            if (Libc.ioctl(fd, TUNSETIFF, ifr) < 0)
            {
                var e = Libc.Error("TUNSETIFF (make a tap)");
                Libc.close(fd);
                throw e;
            }
            var name = new Span<byte>(ifr, 16);
            return (fd, Encoding.ASCII.GetString(name[..name.IndexOf((byte)0)]));
        }
    }
}
