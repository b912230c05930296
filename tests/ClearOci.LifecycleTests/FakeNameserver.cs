using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ClearOci.Native;
using ClearOci.Vmm;

namespace ClearOci.LifecycleTests;

/// <summary>
/// A nameserver on ADDRESS:53 (UDP and TCP) inside a network namespace, as docker's embedded DNS
/// is on 127.0.0.11: it answers an A query for each name of <c>records</c> with its address, any
/// other query with no answer (NOERROR), and counts the queries per protocol.
/// </summary>
public sealed class FakeNameserver : IDisposable
{
    private readonly Socket _udp, _tcp;
    private readonly Dictionary<string, IPAddress> _records;
    private readonly CancellationTokenSource _stop = new();
    private int _udpQueries, _tcpQueries;

    public FakeNameserver(string netnsPath, IPAddress address, Dictionary<string, IPAddress> records)
    {
        _records = records;
        int fd = Libc.Check(Libc.open(netnsPath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), $"open {netnsPath}");
        try
        {
            (_udp, _tcp) = NamespaceThread.InNetwork(fd, () =>
            {
                var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(address, 53));
                var tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                tcp.Bind(new IPEndPoint(address, 53));
                tcp.Listen(8);
                return (udp, tcp);
            });
        }
        finally { Libc.close(fd); }
        _ = Task.Run(ServeUdpAsync);
        _ = Task.Run(ServeTcpAsync);
    }

    public int UdpQueries => Volatile.Read(ref _udpQueries);
    public int TcpQueries => Volatile.Read(ref _tcpQueries);

    private async Task ServeUdpAsync()
    {
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                var got = await _udp.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                Interlocked.Increment(ref _udpQueries);
                if (Answer(buffer.AsSpan(0, got.ReceivedBytes)) is { } answer) await _udp.SendToAsync(answer, got.RemoteEndPoint, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task ServeTcpAsync()
    {
        try
        {
            while (true)
            {
                using var connection = await _tcp.AcceptAsync(_stop.Token);
                await using var stream = new NetworkStream(connection);
                byte[] length = new byte[2];
                await stream.ReadExactlyAsync(length, _stop.Token);
                byte[] query = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
                await stream.ReadExactlyAsync(query, _stop.Token);
                Interlocked.Increment(ref _tcpQueries);
                if (Answer(query) is not { } answer) continue;
                BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)answer.Length);
                await stream.WriteAsync(length, _stop.Token);
                await stream.WriteAsync(answer, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException) { }
    }

    /// <summary>The response to one query (one question, as resolvers send), or null for what is not a query.</summary>
    private byte[]? Answer(ReadOnlySpan<byte> query)
    {
        if (query.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(query[4..]) != 1) return null;
        int at = 12;
        var labels = new List<string>();
        while (at < query.Length && query[at] != 0)
        {
            int n = query[at];
            if (at + 1 + n > query.Length) return null;
            labels.Add(Encoding.ASCII.GetString(query.Slice(at + 1, n)));
            at += 1 + n;
        }
        if (at + 5 > query.Length) return null;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(query[(at + 1)..]);
        int questionEnd = at + 5;
        bool known = _records.TryGetValue(string.Join('.', labels), out var address);
        bool answerIt = known && type == 1 && address!.AddressFamily == AddressFamily.InterNetwork;
        var response = new List<byte>(query[..questionEnd].ToArray());
        response[2] = 0x81; // QR, RD
        response[3] = 0x80; // RA, NOERROR
        response[6] = 0; response[7] = answerIt ? (byte)1 : (byte)0; // ANCOUNT
        for (int i = 8; i < 12; i++) response[i] = 0;
        if (answerIt)
        {
            response.AddRange([0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]); // the question's name, A, IN, TTL 60, 4 bytes
            response.AddRange(address!.GetAddressBytes());
        }
        return response.ToArray();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _tcp.Dispose();
    }
}
