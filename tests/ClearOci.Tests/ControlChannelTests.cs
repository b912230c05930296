using System.Buffers.Binary;
using System.Reflection;
using System.Text;
using System.Text.Json.Serialization;
using ClearOci.Protocol;
using ClearOci.Spec;

namespace ClearOci.Tests;

public class ControlChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>One instance of every control message type, with every field set to a non-default value.</summary>
    public static IEnumerable<TestCaseData> AllMessages()
    {
        Message[] messages =
        [
            new Hello { Id = 0, Version = ProtocolInfo.Version, KernelRelease = "6.1.0-clearoci", AgentStartNs = 812_000_000, AgentReadyNs = 901_234_567 },
            new Response { Id = 7, Pid = 42 },
            new Response { Id = 8, Error = "exec: \"nosuchcmd\": executable file not found in $PATH", Code = nameof(ErrorCode.NotFound) },
            new CreateContainer
            {
                Id = 1, ContainerId = "c1", ConfigJson = "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\"]}}\n", RootfsTag = "rootfs",
                RootfsPath = "rootfs", Stdio = new StdioStreams { Stdin = 1, Stdout = 2, Stderr = 3 },
            },
            new ConfigureNetwork
            {
                Id = 11,
                Interfaces =
                [
                    new GuestInterface
                    {
                        Name = "eth0", Mac = "02:42:ac:11:00:02", Mtu = 1400, Addresses = ["172.17.0.2/16", "fd00::2/64"],
                        Routes = [new GuestRoute("198.51.100.0/24", null), new GuestRoute("default", "172.17.0.1")],
                    },
                ],
                DnsRelay = ["127.0.0.11", "::1"],
            },
            new DnsQuery { Id = 0, Query = 12, Server = "127.0.0.11", Tcp = true, Data = [0x12, 0x34, 1, 0, 0, 1] },
            new DnsAnswer { Id = 0, Query = 12, Data = [0x12, 0x34, 0x81, 0x80, 0, 1] },
            new StartProcess { Id = 2, ContainerId = "c1", ExecId = "e1" },
            new ExecProcess { Id = 7, ContainerId = "c1", ExecId = "e2", ProcessJson = "{\"args\":[\"true\"],\"cwd\":\"/\"}", Stdio = new StdioStreams { Stdin = 4, Stdout = 5, Stderr = 6 } },
            new SignalProcess { Id = 3, ContainerId = "c1", ExecId = "e1", Signal = 15 },
            new ResizeTerminal { Id = 8, ContainerId = "c1", ExecId = "e1", Rows = 33, Cols = 111 },
            new GetStats { Id = 9, ContainerId = "c1" },
            new UpdateResources { Id = 10, ContainerId = "c1", ResourcesJson = "{\"pids\":{\"limit\":5}}" },
            new FreezeContainer { Id = 12, ContainerId = "c1", Frozen = true },
            new Response { Id = 9, Stats = new ContainerStats { CpuUserNs = 1, CpuKernelNs = 2, MemoryUsageBytes = 3, MemoryLimitBytes = 4, Pids = 5 } },
            new ProcessExited { Id = 0, ContainerId = "c1", ExecId = "", Status = 137, ExitedNs = long.MaxValue },
            new OomKilled { Id = 0, ContainerId = "c1" },
            new Shutdown { Id = long.MaxValue },
        ];
        return messages.Select(m => new TestCaseData(m).SetArgDisplayNames($"{m.GetType().Name}#{m.Id}"));
    }

    [Test]
    public void TheCasesCoverEveryMessageType()
    {
        var declared = typeof(Message).GetCustomAttributes<JsonDerivedTypeAttribute>().Select(a => a.DerivedType).ToHashSet();
        var covered = AllMessages().Select(c => c.Arguments[0]!.GetType()).ToHashSet();
        Assert.That(covered, Is.EquivalentTo(declared));
    }

    [TestCaseSource(nameof(AllMessages))]
    public async Task RoundTripsThroughTheChannel(Message message)
    {
        var (a, b) = InMemoryDuplex.CreatePair();
        await using var sender = new ControlChannel(a);
        await using var receiver = new ControlChannel(b);
        await sender.SendAsync(message).WaitAsync(Timeout);
        var got = await receiver.ReceiveAsync().WaitAsync(Timeout);
        Assert.That(got, Is.TypeOf(message.GetType()));
        Assert.That(got, Is.EqualTo(message), "value equality of the record");
        Assert.That(ControlChannel.Encode(got!), Is.EqualTo(ControlChannel.Encode(message)), "re-encoding gives the same bytes");
    }

    [TestCaseSource(nameof(AllMessages))]
    public async Task SurvivesOneByteReads(Message message)
    {
        var (a, b) = InMemoryDuplex.CreatePair(maxRead: 1);
        await using var sender = new ControlChannel(a);
        await using var receiver = new ControlChannel(b);
        await sender.SendAsync(message).WaitAsync(Timeout);
        var got = await receiver.ReceiveAsync().WaitAsync(Timeout);
        Assert.That(ControlChannel.Encode(got!), Is.EqualTo(ControlChannel.Encode(message)));
        Assert.That(b.ReadCalls, Is.GreaterThan(4), "the frame was read in pieces");
    }

    [Test]
    public void FrameIsABigEndianLengthThenCamelCaseJsonWithATypeTag()
    {
        byte[] frame = ControlChannel.Encode(new SignalProcess { Id = 5, ContainerId = "c", Signal = 9 });
        int length = BinaryPrimitives.ReadInt32BigEndian(frame);
        Assert.That(length, Is.EqualTo(frame.Length - 4));
        string json = Encoding.UTF8.GetString(frame, 4, length);
        Assert.That(json, Does.StartWith("{\"type\":\"signal\""));
        Assert.That(json, Does.Contain("\"containerId\":\"c\"").And.Contain("\"signal\":9").And.Contain("\"id\":5"));
        Assert.That(ControlChannel.Encode(new Shutdown()).Length - 4, Is.EqualTo("{\"type\":\"shutdown\"}".Length), "default values (id 0) are not written");
    }

    [Test]
    public async Task ManyMessagesKeepTheirOrderBothWays()
    {
        var (a, b) = InMemoryDuplex.CreatePair(maxRead: 13);
        await using var host = new ControlChannel(a);
        await using var guest = new ControlChannel(b);
        const int n = 500;
        var hostSends = Task.Run(async () => { for (int i = 1; i <= n; i++) await host.SendAsync(new StartProcess { Id = i, ContainerId = $"c{i}" }); });
        var guestSends = Task.Run(async () => { for (int i = 1; i <= n; i++) await guest.SendAsync(new Response { Id = i, Pid = i * 2 }); });
        var guestGot = Task.Run(async () =>
        {
            var list = new List<Message>();
            for (int i = 0; i < n; i++) list.Add((await guest.ReceiveAsync())!);
            return list;
        });
        var hostGot = Task.Run(async () =>
        {
            var list = new List<Message>();
            for (int i = 0; i < n; i++) list.Add((await host.ReceiveAsync())!);
            return list;
        });
        await Task.WhenAll(hostSends, guestSends, guestGot, hostGot).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(guestGot.Result.Cast<StartProcess>().Select(m => (m.Id, m.ContainerId)), Is.EqualTo(Enumerable.Range(1, n).Select(i => ((long)i, $"c{i}"))));
        Assert.That(hostGot.Result.Cast<Response>().Select(m => (m.Id, m.Pid)), Is.EqualTo(Enumerable.Range(1, n).Select(i => ((long)i, i * 2))));
    }

    [Test]
    public async Task ConcurrentSendersNeverInterleaveFrames()
    {
        var (a, b) = InMemoryDuplex.CreatePair(pauseWriterAt: 4096);
        await using var sender = new ControlChannel(a);
        await using var receiver = new ControlChannel(b);
        string big = new('x', 100_000);
        var sends = Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 20; i++) await sender.SendAsync(new CreateContainer { Id = t * 100 + i, ContainerId = $"t{t}", ConfigJson = big, RootfsTag = "r", Stdio = new() });
        })).ToArray();
        var received = new List<CreateContainer>();
        for (int i = 0; i < 160; i++) received.Add((CreateContainer)(await receiver.ReceiveAsync().WaitAsync(Timeout))!);
        await Task.WhenAll(sends).WaitAsync(Timeout);
        Assert.That(received.Select(m => m.Id), Is.EquivalentTo(Enumerable.Range(0, 8).SelectMany(t => Enumerable.Range(0, 20).Select(i => (long)(t * 100 + i)))));
        Assert.That(received.All(m => m.ConfigJson == big && m.ContainerId == $"t{m.Id / 100}"), Is.True);
    }

    [Test]
    public async Task CleanEndOfStreamIsNull()
    {
        var (a, b) = InMemoryDuplex.CreatePair();
        await using var receiver = new ControlChannel(b);
        await new ControlChannel(a).SendAsync(new Shutdown { Id = 1 });
        a.CompleteWrites();
        Assert.That(await receiver.ReceiveAsync().WaitAsync(Timeout), Is.TypeOf<Shutdown>());
        Assert.That(await receiver.ReceiveAsync().WaitAsync(Timeout), Is.Null);
    }

    /// <summary>Writes raw bytes to one end, closes it, and returns what ReceiveAsync on the other end throws.</summary>
    private static async Task<ClearOciException> ReceiveRaw(byte[] raw)
    {
        var (a, b) = InMemoryDuplex.CreatePair(maxRead: 3);
        await a.WriteAsync(raw);
        a.CompleteWrites();
        await using var receiver = new ControlChannel(b);
        var e = Assert.ThrowsAsync<ClearOciException>(async () => await receiver.ReceiveAsync().WaitAsync(Timeout));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.Agent));
        return e;
    }

    [Test]
    public async Task TruncatedBodyRaises()
    {
        byte[] frame = ControlChannel.Encode(new Hello { KernelRelease = "6.1" });
        var e = await ReceiveRaw(frame[..^5]);
        Assert.That(e.Message, Does.Contain("closed inside a frame"));
    }

    [TestCase(1)]
    [TestCase(3)]
    public async Task TruncatedHeaderRaises(int bytes)
    {
        var e = await ReceiveRaw(ControlChannel.Encode(new Shutdown())[..bytes]);
        Assert.That(e.Message, Does.Contain("closed inside a frame"));
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(int.MinValue)]
    [TestCase(ControlChannel.MaxMessageBytes + 1)]
    [TestCase(int.MaxValue)]
    public async Task BadLengthRaises(int length)
    {
        byte[] raw = new byte[4 + 16];
        BinaryPrimitives.WriteInt32BigEndian(raw, length);
        var e = await ReceiveRaw(raw);
        Assert.That(e.Message, Does.Contain("bad control frame length").And.Contain(length.ToString()));
    }

    private static byte[] Frame(string json)
    {
        byte[] body = Encoding.UTF8.GetBytes(json);
        byte[] raw = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(raw, body.Length);
        body.CopyTo(raw, 4);
        return raw;
    }

    [TestCase("{not json", TestName = "BadJsonRaises(syntax)")]
    [TestCase("{\"type\":\"create\",\"id\":1}", TestName = "BadJsonRaises(required fields missing)")]
    [TestCase("{\"type\":\"signal\",\"id\":\"one\",\"containerId\":\"c\"}", TestName = "BadJsonRaises(wrong field type)")]
    [TestCase("null", TestName = "BadJsonRaises(null)")]
    public async Task BadJsonRaises(string json)
    {
        var e = await ReceiveRaw(Frame(json));
        Assert.That(e.Message, Does.StartWith("protocol:"));
    }

    [Test]
    public async Task UnknownTypeRaises()
    {
        var e = await ReceiveRaw(Frame("{\"type\":\"teleport\",\"id\":1}"));
        Assert.That(e.Message, Does.StartWith("protocol:"));
    }

    [Test]
    public async Task MissingTypeRaises()
    {
        // Must fail as a protocol error (ClearOciException), never as an exception type that
        // escapes the agent's or the host's error handling.
        var e = await ReceiveRaw(Frame("{\"id\":1}"));
        Assert.That(e.Message, Does.StartWith("protocol:"));
    }
}

public class ExtraFdsFramingTests
{
    [Test]
    public void CreateContainer_WithPreservedFds_RoundTrips()
    {
        var sent = new CreateContainer
        {
            Id = 4, ContainerId = "c1", ConfigJson = "{}", RootfsTag = "rootfs",
            Stdio = new StdioStreams { Stdin = 1, Stdout = 2, Stderr = 3 },
            ExtraFds = [new ExtraFd(3, 13, 14), new ExtraFd(4, 16, 17)],
        };
        var frame = ControlChannel.Encode(sent);
        var got = (CreateContainer)ControlChannel.Decode(frame.AsSpan(4));
        Assert.That(got.ExtraFds, Is.EqualTo(sent.ExtraFds));
        Assert.That(got with { ExtraFds = null }, Is.EqualTo(sent with { ExtraFds = null }));
    }
}
