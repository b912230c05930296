using System.Text;
using ClearOci.Shim;

namespace ClearOci.Tests;

/// <summary>
/// The shim's protobuf and ttrpc encoding against bytes captured from containerd 1.6.20 and its
/// runc shim on this machine (shared/spec/shim-v2.md §2.8, §1.4, §3.3).
/// </summary>
public class ShimProtocolTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));
    private static string Ascii(string s) => Convert.ToHexString(Encoding.ASCII.GetBytes(s));

    [Test]
    public void ConnectRequestFrame_FromContainerd_DecodesServiceMethodAndId()
    {
        byte[] frame = Hex("00000028 00000003 01 00" + "0a17" + Ascii("containerd.task.v2.Task") + "1207" + Ascii("Connect") + "1a04 0a02" + Ascii("t2"));
        var read = TtrpcFraming.ReadAsync(new MemoryStream(frame)).GetAwaiter().GetResult();
        Assert.That(read, Is.Not.Null);
        var (f, oversize) = read!.Value;
        Assert.That((f.StreamId, f.Type, f.Flags, oversize), Is.EqualTo((3u, FrameType.Request, (byte)0, false)));
        var request = TtrpcRequest.Decode(f.Data);
        Assert.That((request.Service, request.Method), Is.EqualTo(("containerd.task.v2.Task", "Connect")));
        Assert.That(ProcessRequest.Decode(request.Payload).Id, Is.EqualTo("t2"));
        Assert.That(TtrpcFraming.Encode(f), Is.EqualTo(frame), "re-encoding gives the same bytes");
    }

    [Test]
    public void ConnectResponse_MatchesTheRuncShimsBytes()
    {
        byte[] payload = TaskResponses.Connect(25144, 25220, "");
        byte[] frame = TtrpcFraming.Encode(new Frame(3, FrameType.Response, 0, TtrpcResponse.Ok(payload).Encode()));
        Assert.That(frame, Is.EqualTo(Hex("0000000a 00000003 02 00 1208 08b8c401 1084c501")));
    }

    [Test]
    public void ErrorResponse_DuplicateExecId_MatchesTheRuncShimsBytes()
    {
        byte[] body = TtrpcResponse.Error(RpcCode.AlreadyExists, "id e1b: already exists").Encode();
        byte[] frame = TtrpcFraming.Encode(new Frame(0x39, FrameType.Response, 0, body));
        Assert.That(frame, Is.EqualTo(Hex("0000001c 00000039 02 00 0a1a 0806 1216" + Ascii("id e1b: already exists"))));
        var back = TtrpcResponse.Decode(body);
        Assert.That((back.Code, back.Message), Is.EqualTo((RpcCode.AlreadyExists, "id e1b: already exists")));
    }

    [Test]
    public void KillRequest_SigtermFromContainerd_Decodes()
    {
        byte[] body = Hex("0a17" + Ascii("containerd.task.v2.Task") + "1204" + Ascii("Kill") + "1a06 0a02" + Ascii("t2") + "180f");
        var request = TtrpcRequest.Decode(body);
        var kill = KillRequest.Decode(request.Payload);
        Assert.That(kill, Is.EqualTo(new KillRequest("t2", "", 15, false)));
        Assert.That(new TtrpcRequest("containerd.task.v2.Task", "Kill", kill.Encode()).Encode(), Is.EqualTo(body));
    }

    [Test]
    public void EmptyOkResponse_IsAHeaderOnly()
    {
        byte[] frame = TtrpcFraming.Encode(new Frame(0x65, FrameType.Response, 0, TtrpcResponse.Ok([]).Encode()));
        Assert.That(frame, Is.EqualTo(Hex("00000000 00000065 02 00")));
    }

    [Test]
    public void StateRequestWithTimeout_FromTheStrace_Decodes()
    {
        byte[] frame = Hex("0000002c 00000009 01 00 0a17" + Ascii("containerd.task.v2.Task") + "1205" + Ascii("State") + "1a04 0a02" + Ascii("t4") + "20 8ca6d4b907");
        var (f, _) = TtrpcFraming.ReadAsync(new MemoryStream(frame)).GetAwaiter().GetResult()!.Value;
        var request = TtrpcRequest.Decode(f.Data);
        Assert.That(request.Method, Is.EqualTo("State"));
        Assert.That(request.TimeoutNano, Is.EqualTo(1_999_966_988L));
        Assert.That(request.Encode(), Is.EqualTo(f.Data));
    }

    [Test]
    public void ShutdownTimeout_IsAVarintInt64()
    {
        var request = TtrpcRequest.Decode(Hex("0a17" + Ascii("containerd.task.v2.Task") + "1208" + Ascii("Shutdown") + "1a04 0a02" + Ascii("t2") + "20 b1f9c0960b"));
        Assert.That(request.TimeoutNano, Is.EqualTo(2_999_991_473L));
        Assert.That(ShutdownRequest.Decode(request.Payload), Is.EqualTo(new ShutdownRequest("t2", false)));
    }

    [Test]
    public void ForwardOfTaskStart_MatchesTheRuncShimsBytes()
    {
        var start = TaskEvent.Start("t2", 25220);
        byte[] payload = start.ForwardRequest("default", ProtoTime.Encode(1795703367, 63785341));
        byte[] body = new TtrpcRequest(EventPublisher.EventsService, "Forward", payload, 4_999_989_531, [new(EventPublisher.NamespaceKey, "default")]).Encode();
        byte[] frame = TtrpcFraming.Encode(new Frame(3, FrameType.Request, 0, body));
        string expected = "000000b3 00000003 01 00"
            + "0a2a" + Ascii("containerd.services.events.ttrpc.v1.Events") + "1207" + Ascii("Forward")
            + "1a4f 0a4d"
            + "0a0b 08c784a1d806 10fd92b51e"
            + "1207" + Ascii("default")
            + "1a0c" + Ascii("/tasks/start")
            + "2227 0a1b" + Ascii("containerd.events.TaskStart") + "1208 0a02" + Ascii("t2") + "1084c501"
            + "20 9b9297d012"
            + "2a25 0a1a" + Ascii("containerd-namespace-ttrpc") + "1207" + Ascii("default");
        Assert.That(Convert.ToHexString(frame), Is.EqualTo(Convert.ToHexString(Hex(expected))));
    }

    [Test]
    public void DeleteResponse_MatchesTheRuncShimsBytes()
    {
        byte[] bytes = new ProtoWriter().Uint(1, 20531).Uint(2, 137).Message(3, ProtoTime.Encode(1795703308, 945901247)).ToArray();
        Assert.That(bytes, Is.EqualTo(Hex("08b3a001 108901 1a0c088c84a1d80610bf9d85c303")));
        var at = DateTimeOffset.FromUnixTimeSeconds(1795703308).AddTicks(9459012);
        Assert.That(TaskResponses.Delete(20531, 137, at), Is.EqualTo(Hex("08b3a001 108901 1a0c088c84a1d80610909d85c303")));
    }

    [Test]
    public void StateOfARunningProcess_SendsGoZeroTimeAsExitedAt()
    {
        byte[] state = new StateResponse("t", "", 0, TaskState.Running, "", "", "", false, 0, null, "").Encode();
        Assert.That(Convert.ToHexString(state), Does.EndWith("520B088092B8C398FEFFFFFF01"));
        Assert.That(ProtoTime.Decode(ProtoTime.Encode(null)), Is.Null);
    }

    [Test]
    public void Timestamp_RoundTripsToTheTick()
    {
        var t = new DateTimeOffset(2026, 11, 26, 19, 41, 37, TimeSpan.Zero).AddTicks(1234567);
        Assert.That(ProtoTime.Decode(ProtoTime.Encode(t)), Is.EqualTo(t));
    }

    [Test]
    public void CreateTaskRequest_RoundTripsMountsStdioAndOptions()
    {
        var create = new CreateTaskRequest("c1", "/b", [new MountSpec("overlay", "overlay", "", ["index=off", "lowerdir=/l"])], false,
            "/fifo/in", "/fifo/out", "/fifo/err", "", new AnyMessage("runtimeoptions.v1.Options", [0x12, 0x01, 0x78]));
        var back = CreateTaskRequest.Decode(create.Encode());
        Assert.That(back.Rootfs.Single().Options, Is.EqualTo(new[] { "index=off", "lowerdir=/l" }));
        Assert.That((back.Id, back.Bundle, back.Stdin, back.Stdout, back.Stderr), Is.EqualTo(("c1", "/b", "/fifo/in", "/fifo/out", "/fifo/err")));
        Assert.That(back.Options!.TypeUrl, Is.EqualTo("runtimeoptions.v1.Options"));
        Assert.That(back.Options.Value, Is.EqualTo(new byte[] { 0x12, 0x01, 0x78 }));
    }

    [Test]
    public void Reader_UnknownFieldsOfEveryWireTypeAreSkipped()
    {
        // field 9 varint, field 10 fixed64, field 11 fixed32, field 12 bytes, then id="x"
        byte[] data = Hex("4801 5101020304050607 08 5d01020304 6202aabb 0a0178");
        Assert.That(ProcessRequest.Decode(data).Id, Is.EqualTo("x"));
    }

    [TestCase("0a05 6162")]          // length past the end
    [TestCase("08 ffffffffffffffffffff01")] // varint over 10 bytes
    [TestCase("0b")]                  // wire type 3 (groups) is not supported
    public void Reader_MalformedInput_ThrowsProtoException(string hex) =>
        Assert.Throws<ProtoException>(() => ProcessRequest.Decode(Hex(hex)));

    [Test]
    public void Metrics_FromClearOciStats_CarriesCpuMemoryPids()
    {
        string json = """{"type":"stats","id":"c","data":{"cpu":{"usage":{"total":300,"user":200,"kernel":100}},"memory":{"usage":{"usage":4096,"limit":8192}},"pids":{"current":3}}}""";
        var any = MetricsConverter.FromStatsJson(json);
        Assert.That(any.TypeUrl, Is.EqualTo("io.containerd.cgroups.v1.Metrics"));
        // pids(2){current=3}, cpu(3){usage(1){total=300 kernel=100 user=200}}, memory(4){usage(33){limit=8192 usage=4096}}
        Assert.That(Convert.ToHexString(any.Value), Is.EqualTo("12020803" + "1A0A0A0808AC02106418C801" + "22098A0206088040108020"));
    }
}
