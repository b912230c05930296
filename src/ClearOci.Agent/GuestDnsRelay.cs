using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ClearOci.Protocol;

namespace ClearOci.Agent;

/// <summary>
/// The guest end of the DNS relay (the host's is ClearOci.Runtime.DnsRelay): listens on each
/// relayed nameserver's address, port 53, UDP and TCP, on the guest's lo, which is the container's
/// (it uses the guest's network namespace); each query goes to the host as a <see cref="DnsQuery"/>
/// event and its <see cref="DnsAnswer"/> goes back to the client from the address it asked.
/// </summary>
internal sealed class GuestDnsRelay(Func<DnsQuery, Task> send)
{
    private const int Port = 53;
    /// <summary>Longer than the host's own wait, so an answer that comes is never dropped here.</summary>
    private static readonly TimeSpan Forget = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<long, Action<byte[]>> _pending = new();
    private long _nextQuery;

    /// <summary>Starts serving each address; one that cannot be bound is logged and left out.</summary>
    public void Listen(IEnumerable<string> servers)
    {
        foreach (var server in servers)
        {
            try
            {
                var address = IPAddress.Parse(server);
                var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(address, Port));
                var tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                tcp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                tcp.Bind(new IPEndPoint(address, Port));
                tcp.Listen(16);
                _ = Task.Run(() => ServeUdpAsync(udp, server));
                _ = Task.Run(() => ServeTcpAsync(tcp, server));
                GuestBoot.Log($"dns: relaying {server}:{Port} to the host");
            }
            catch (Exception e) when (e is SocketException or FormatException)
            {
                GuestBoot.Log($"dns: cannot serve {server}:{Port}: {e.Message}");
            }
        }
    }

    /// <summary>The host's answer to one of our queries (late or unknown ones are dropped).</summary>
    public void Answer(DnsAnswer answer)
    {
        if (_pending.TryRemove(answer.Query, out var deliver)) deliver(answer.Data);
    }

    private async Task ServeUdpAsync(Socket udp, string server)
    {
        byte[] buffer = new byte[ushort.MaxValue];
        EndPoint any = new IPEndPoint(udp.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (true)
        {
            SocketReceiveFromResult got;
            try { got = await udp.ReceiveFromAsync(buffer, SocketFlags.None, any); }
            catch (SocketException e) { GuestBoot.Log($"dns: {server} udp: {e.Message}"); return; }
            var client = got.RemoteEndPoint;
            await AskAsync(server, tcp: false, buffer[..got.ReceivedBytes], answer =>
            {
                if (answer.Length == 0) return; // no answer: the client retries or gives up, as with a lost datagram
                try { udp.SendTo(answer, client); }
                catch (SocketException) { /* the client went away */ }
            });
        }
    }

    private async Task ServeTcpAsync(Socket listener, string server)
    {
        while (true)
        {
            Socket connection;
            try { connection = await listener.AcceptAsync(); }
            catch (SocketException e) { GuestBoot.Log($"dns: {server} tcp: {e.Message}"); return; }
            _ = Task.Run(() => ServeConnectionAsync(connection, server));
        }
    }

    /// <summary>DNS over TCP: messages with a 2-byte length prefix, answered in order, until the client closes.</summary>
    private async Task ServeConnectionAsync(Socket connection, string server)
    {
        using var _ = connection;
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        byte[] length = new byte[2];
        try
        {
            while (true)
            {
                if (await stream.ReadAtLeastAsync(length, 2, throwOnEndOfStream: false) < 2) return;
                byte[] query = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
                await stream.ReadExactlyAsync(query);
                var answered = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
                await AskAsync(server, tcp: true, query, a => answered.TrySetResult(a));
                byte[] answer = await answered.Task.WaitAsync(Forget);
                if (answer.Length == 0) return;
                byte[] framed = new byte[2 + answer.Length];
                BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)answer.Length);
                answer.CopyTo(framed, 2);
                await stream.WriteAsync(framed);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or TimeoutException or EndOfStreamException) { /* the client's or the host's end went: close */ }
    }

    private async Task AskAsync(string server, bool tcp, byte[] query, Action<byte[]> deliver)
    {
        long id = Interlocked.Increment(ref _nextQuery);
        _pending[id] = deliver;
        _ = Task.Delay(Forget).ContinueWith(_ => _pending.TryRemove(id, out var _), TaskScheduler.Default);
        try { await send(new DnsQuery { Query = id, Server = server, Tcp = tcp, Data = query }); }
        catch (Exception e)
        {
            _pending.TryRemove(id, out var _);
            GuestBoot.Log($"dns: sending a query to the host: {e.Message}");
        }
    }
}
