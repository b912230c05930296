using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net;
using ClearOci.Client;
using ClearOci.Protocol;
using ClearOci.Spec;

namespace ClearOci.Runtime;

/// <summary>
/// The host end of the DNS relay. A nameserver on a loopback address of the container's network
/// namespace (docker's embedded DNS on 127.0.0.11, a host-network container's 127.0.0.53) is out
/// of the VM's reach: only the namespace's Ethernet interfaces are mirrored into it. The agent
/// listens on those addresses on the guest's lo and sends each query here; the relay asks the
/// nameserver from a socket made in the container's namespace on the host and sends the answer
/// back. Only the nameservers named at start, and only their port 53, can be reached this way.
/// </summary>
public sealed class DnsRelay : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private const int Port = 53;
    /// <summary>Queries in flight at once; more are answered empty at once (a guest cannot pile up host threads and sockets).</summary>
    public const int MaxInFlight = 32;
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);
    private readonly AgentClient _agent;
    private readonly HashSet<string> _servers;
    private readonly Func<Func<Socket>, Socket> _inNamespace;
    private readonly CancellationTokenSource _stop = new();

    private DnsRelay(AgentClient agent, IEnumerable<string> servers, Func<Func<Socket>, Socket> inNamespace)
    {
        _agent = agent;
        _servers = servers.ToHashSet();
        _inNamespace = inNamespace;
        agent.DnsQueried += OnQuery;
    }

    /// <summary>
    /// The nameservers to relay for a container, and how to reach them: with a mirrored namespace,
    /// from sockets made in it; with none in config.json (the host's network), from this process's
    /// own; with a new empty one (`run` of a config without a path), none (the container has only lo).
    /// </summary>
    public static (List<string> Servers, Func<Func<Socket>, Socket>? InNamespace) Plan(OciSpec spec, string bundle, string rootfs, NetworkMirror? network)
    {
        Func<Func<Socket>, Socket>? inNamespace = network != null ? network.InNamespace
            : spec.Linux?.Namespaces?.Any(n => n.Type == "network") == true ? null
            : make => make();
        if (inNamespace is null || ResolvConf.Read(spec, bundle, rootfs) is not { } text) return ([], null);
        var servers = ResolvConf.LoopbackNameservers(text);
        return servers.Count == 0 ? ([], null) : (servers, inNamespace);
    }

    /// <summary>Starts answering the guest's queries for <paramref name="servers"/>; null when there are none.</summary>
    public static DnsRelay? Start(AgentClient agent, IReadOnlyCollection<string> servers, Func<Func<Socket>, Socket>? inNamespace)
    {
        if (servers.Count == 0 || inNamespace is null) return null;
        DebugLog.Write($"dns: relaying {string.Join(' ', servers)} for the guest");
        return new DnsRelay(agent, servers, inNamespace);
    }

    private void OnQuery(DnsQuery q)
    {
        if (_inFlight.Wait(0)) _ = Task.Run(() => AnswerAsync(q));
        else
        {
            DebugLog.Write($"dns: query {q.Query} dropped: {MaxInFlight} queries in flight");
            _ = _agent.AnswerDnsAsync(q.Query, ReadOnlyMemory<byte>.Empty);
        }
    }

    private async Task AnswerAsync(DnsQuery q)
    {
        byte[] answer = [];
        try
        {
            if (!_servers.Contains(q.Server) || !IPAddress.TryParse(q.Server, out var server))
                throw new ClearOciException(ErrorCode.InvalidArgument, $"{q.Server} is not a relayed nameserver");
            if (q.Data.Length is 0 or > ushort.MaxValue)
                throw new ClearOciException(ErrorCode.InvalidArgument, $"a DNS message of {q.Data.Length} bytes");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(Timeout);
            answer = await AskAsync(new IPEndPoint(server, Port), q.Tcp, q.Data, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ClearOciException or SocketException or OperationCanceledException or IOException)
        {
            DebugLog.Write($"dns: query {q.Query} to {q.Server}: {e.Message}");
        }
        finally { _inFlight.Release(); }
        if (!_stop.IsCancellationRequested) await _agent.AnswerDnsAsync(q.Query, answer).ConfigureAwait(false);
    }

    /// <summary>One query, one new socket (a fresh source port, no answer mix-ups), made in the container's namespace.</summary>
    private async Task<byte[]> AskAsync(IPEndPoint server, bool tcp, byte[] query, CancellationToken ct)
    {
        using var socket = _inNamespace(() => tcp
            ? new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        await socket.ConnectAsync(server, ct).ConfigureAwait(false);
        if (!tcp)
        {
            await socket.SendAsync(query, SocketFlags.None, ct).ConfigureAwait(false);
            byte[] buffer = new byte[ushort.MaxValue];
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            return buffer[..n];
        }
        byte[] framed = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None, ct).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        byte[] length = new byte[2];
        await stream.ReadExactlyAsync(length, ct).ConfigureAwait(false);
        byte[] answer = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
        await stream.ReadExactlyAsync(answer, ct).ConfigureAwait(false);
        return answer;
    }

    public void Dispose()
    {
        _agent.DnsQueried -= OnQuery;
        _stop.Cancel();
    }
}
