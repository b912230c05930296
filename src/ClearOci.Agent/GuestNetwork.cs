using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using ClearOci.Native;
using ClearOci.Protocol;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>
/// The guest's network, configured with rtnetlink (the guest has no iproute2): lo up; each NIC,
/// found by its MAC, renamed to its host name, given its MTU and addresses, brought up, then its
/// routes. Containers use the guest's root network namespace, so this is their network.
/// </summary>
internal static partial class GuestNetwork
{
    public static Response Configure(ConfigureNetwork m)
    {
        using var nl = new Rtnetlink();
        nl.SetLink(1, null, 0, up: true); // lo
        foreach (var nic in m.Interfaces)
        {
            int index = FindByMac(nic.Mac) ?? throw new ClearOciException(ErrorCode.Agent, $"no guest NIC has the MAC {nic.Mac} of {nic.Name}");
            nl.SetLink(index, nic.Name, nic.Mtu, up: false);
            foreach (var a in nic.Addresses) nl.AddAddress(index, ParseCidr(a));
            nl.SetLink(index, null, 0, up: true);
            foreach (var r in nic.Routes)
            {
                var dst = r.Destination == "default" ? null : (Cidr?)ParseCidr(r.Destination);
                var gw = r.Gateway is null ? null : IPAddress.Parse(r.Gateway);
                var family = dst?.Address.AddressFamily ?? gw?.AddressFamily
                    ?? throw ClearOciException.Invalid($"route {r.Destination} on {nic.Name}: neither a destination nor a gateway");
                nl.AddRoute(index, family, dst, gw);
            }
        }
        return new Response();
    }

    private static int? FindByMac(string mac)
    {
        foreach (var dir in Directory.EnumerateDirectories("/sys/class/net"))
        {
            string address = Path.Combine(dir, "address");
            if (File.Exists(address) && string.Equals(File.ReadAllText(address).Trim(), mac, StringComparison.OrdinalIgnoreCase))
                return int.Parse(File.ReadAllText(Path.Combine(dir, "ifindex")).Trim());
        }
        return null;
    }

    /// <summary>An address with its prefix length; unlike IPNetwork, host bits may be set ("10.0.0.5/24").</summary>
    private readonly record struct Cidr(IPAddress Address, int Prefix)
    {
        public override string ToString() => $"{Address}/{Prefix}";
    }

    private static Cidr ParseCidr(string cidr)
    {
        int slash = cidr.IndexOf('/');
        var address = IPAddress.Parse(slash < 0 ? cidr : cidr[..slash]);
        int prefix = slash < 0 ? (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128) : int.Parse(cidr[(slash + 1)..]);
        return new Cidr(address, prefix);
    }

    /// <summary>One NETLINK_ROUTE socket: each request is sent with NLM_F_ACK and its error answer checked.</summary>
    private sealed unsafe partial class Rtnetlink : IDisposable
    {
        private const int AF_NETLINK = 16, SOCK_RAW = 3, NETLINK_ROUTE = 0;
        private const ushort NLM_F_REQUEST = 1, NLM_F_ACK = 4, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLMSG_ERROR = 2;
        private const ushort RTM_NEWLINK = 16, RTM_NEWADDR = 20, RTM_NEWROUTE = 24;
        private const ushort IFLA_IFNAME = 3, IFLA_MTU = 4, IFA_ADDRESS = 1, IFA_LOCAL = 2, RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5;
        private const uint IFF_UP = 1, IFA_F_NODAD = 0x02;
        private const byte RT_TABLE_MAIN = 254, RTPROT_BOOT = 3, RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RTN_UNICAST = 1;

        [LibraryImport("libc", SetLastError = true)] private static partial int socket(int domain, int type, int protocol);

        private readonly int _fd = Libc.Check(socket(AF_NETLINK, SOCK_RAW | Libc.SOCK_CLOEXEC, NETLINK_ROUTE), "socket(AF_NETLINK)");
        private uint _seq;

        public void SetLink(int index, string? name, int mtu, bool up)
        {
            var m = new Message(RTM_NEWLINK, 0);
            m.Byte(0); m.Byte(0); m.U16(0); m.I32(index); m.U32(up ? IFF_UP : 0); m.U32(up ? IFF_UP : 0); // ifinfomsg
            if (name != null) m.Attr(IFLA_IFNAME, [.. Encoding.ASCII.GetBytes(name), 0]);
            if (mtu > 0) m.Attr(IFLA_MTU, BitConverter.GetBytes(mtu));
            Send(m, $"configure link {index}{(name is null ? "" : $" as {name}")}");
        }

        public void AddAddress(int index, Cidr address)
        {
            bool v4 = address.Address.AddressFamily == AddressFamily.InterNetwork;
            var m = new Message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
            // ifaddrmsg; no duplicate address detection: the address is the host namespace's already.
            m.Byte(Family(address.Address.AddressFamily)); m.Byte((byte)address.Prefix); m.Byte(v4 ? (byte)0 : (byte)IFA_F_NODAD); m.Byte(RT_SCOPE_UNIVERSE); m.I32(index);
            byte[] bytes = address.Address.GetAddressBytes();
            m.Attr(IFA_LOCAL, bytes);
            m.Attr(IFA_ADDRESS, bytes);
            Send(m, $"add address {address}");
        }

        public void AddRoute(int index, AddressFamily family, Cidr? dst, IPAddress? gateway)
        {
            var m = new Message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
            // rtmsg
            m.Byte(Family(family)); m.Byte((byte)(dst?.Prefix ?? 0)); m.Byte(0); m.Byte(0);
            m.Byte(RT_TABLE_MAIN); m.Byte(RTPROT_BOOT); m.Byte(gateway is null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE); m.Byte(RTN_UNICAST); m.U32(0);
            if (dst is { } d) m.Attr(RTA_DST, d.Address.GetAddressBytes());
            if (gateway != null) m.Attr(RTA_GATEWAY, gateway.GetAddressBytes());
            m.Attr(RTA_OIF, BitConverter.GetBytes(index));
            Send(m, $"add route {(dst?.ToString() ?? "default")}{(gateway is null ? "" : $" via {gateway}")}");
        }

        private static byte Family(AddressFamily f) => f == AddressFamily.InterNetwork ? (byte)2 : (byte)10;

        private void Send(Message m, string what)
        {
            uint seq = ++_seq;
            byte[] request = m.Finish(seq);
            Libc.WriteAll(_fd, request);
            Span<byte> reply = stackalloc byte[4096];
            while (true)
            {
                int n = Libc.Read(_fd, reply);
                for (int off = 0; off + 16 <= n;)
                {
                    uint len = BinaryPrimitives.ReadUInt32LittleEndian(reply[off..]);
                    ushort type = BinaryPrimitives.ReadUInt16LittleEndian(reply[(off + 4)..]);
                    uint replySeq = BinaryPrimitives.ReadUInt32LittleEndian(reply[(off + 8)..]);
                    if (type == NLMSG_ERROR && replySeq == seq)
                    {
                        int errno = -BinaryPrimitives.ReadInt32LittleEndian(reply[(off + 16)..]);
                        if (errno != 0) throw Libc.Error(what, errno);
                        return;
                    }
                    if (len < 16) break;
                    off += (int)((len + 3) & ~3u);
                }
            }
        }

        public void Dispose() => Libc.close(_fd);

        /// <summary>A netlink message under construction: header filled in by <see cref="Finish"/>.</summary>
        private sealed class Message
        {
            private readonly List<byte> _b = new(new byte[16]);
            private readonly ushort _type, _flags;

            public Message(ushort type, ushort flags) { _type = type; _flags = (ushort)(flags | NLM_F_REQUEST | NLM_F_ACK); }

            public void Byte(byte v) => _b.Add(v);
            public void U16(ushort v) => _b.AddRange(BitConverter.GetBytes(v));
            public void U32(uint v) => _b.AddRange(BitConverter.GetBytes(v));
            public void I32(int v) => _b.AddRange(BitConverter.GetBytes(v));

            public void Attr(ushort type, byte[] data)
            {
                U16((ushort)(4 + data.Length)); U16(type);
                _b.AddRange(data);
                while (_b.Count % 4 != 0) _b.Add(0);
            }

            public byte[] Finish(uint seq)
            {
                var bytes = _b.ToArray();
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), _type);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), _flags);
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), seq);
                return bytes;
            }
        }
    }
}
