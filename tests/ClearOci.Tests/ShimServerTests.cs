using ClearOci.Shim;

namespace ClearOci.Tests;

/// <summary>The ttrpc server over an in-memory connection: routing, errors, pipelining, limits.</summary>
public class ShimServerTests
{
    private const string Service = "containerd.task.v2.Task";

    private static async Task<(DuplexStream Client, Task Serving)> StartAsync(TtrpcService service, int maxRead = int.MaxValue)
    {
        var (client, server) = InMemoryDuplex.CreatePair(maxRead, pauseWriterAt: 16 << 20);
        var ttrpc = new TtrpcServer(new Dictionary<string, TtrpcService> { [Service] = service });
        var serving = Task.Run(() => ttrpc.ServeAsync(server));
        await Task.Yield();
        return (client, serving);
    }

    private static async Task<TtrpcResponse> ReadResponseAsync(Stream s, uint expectedId)
    {
        var next = await TtrpcFraming.ReadAsync(s).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(next, Is.Not.Null, "a response frame");
        Assert.That(next!.Value.Frame.Type, Is.EqualTo(FrameType.Response));
        Assert.That(next.Value.Frame.StreamId, Is.EqualTo(expectedId));
        return TtrpcResponse.Decode(next.Value.Frame.Data);
    }

    private static Task SendAsync(Stream s, uint id, TtrpcRequest r) =>
        s.WriteAsync(TtrpcFraming.Encode(new Frame(id, FrameType.Request, 0, r.Encode()))).AsTask();

    [Test]
    public async Task Dispatch_UnknownServiceAndMethod_AreUnimplemented()
    {
        var (c, _) = await StartAsync((m, p, ct) => m == "Connect" ? Task.FromResult(new byte[] { 8, 1 }) : throw new RpcException(RpcCode.Unimplemented, $"method {m}"));
        await SendAsync(c, 1, new TtrpcRequest("containerd.task.v3.Nope", "Connect", []));
        var r1 = await ReadResponseAsync(c, 1);
        Assert.That((r1.Code, r1.Message), Is.EqualTo((RpcCode.Unimplemented, "service containerd.task.v3.Nope")));
        await SendAsync(c, 3, new TtrpcRequest(Service, "Frobnicate", []));
        var r3 = await ReadResponseAsync(c, 3);
        Assert.That((r3.Code, r3.Message), Is.EqualTo((RpcCode.Unimplemented, "method Frobnicate")));
        await SendAsync(c, 5, new TtrpcRequest(Service, "Connect", []));
        var r5 = await ReadResponseAsync(c, 5);
        Assert.That((r5.Code, r5.Payload), Is.EqualTo((RpcCode.Ok, new byte[] { 8, 1 })));
    }

    [Test]
    public async Task Requests_ArePipelined_ALaterQuickCallIsAnsweredBeforeAPendingWait()
    {
        var exited = new TaskCompletionSource();
        var (c, _) = await StartAsync(async (m, p, ct) =>
        {
            if (m == "Wait") await exited.Task;
            return m == "Wait" ? [0x08, 0x07] : [];
        });
        await SendAsync(c, 1, new TtrpcRequest(Service, "Wait", []));
        await SendAsync(c, 3, new TtrpcRequest(Service, "State", []));
        Assert.That((await ReadResponseAsync(c, 3)).Code, Is.EqualTo(RpcCode.Ok));
        exited.SetResult();
        Assert.That((await ReadResponseAsync(c, 1)).Payload, Is.EqualTo(new byte[] { 0x08, 0x07 }));
    }

    [Test]
    public async Task EvenStreamId_IsInvalidArgument_AndGarbageRequestToo()
    {
        var (c, _) = await StartAsync((m, p, ct) => Task.FromResult(Array.Empty<byte>()));
        await SendAsync(c, 2, new TtrpcRequest(Service, "State", []));
        var even = await ReadResponseAsync(c, 2);
        Assert.That((even.Code, even.Message), Is.EqualTo((RpcCode.InvalidArgument, "StreamID must be odd for client initiated streams")));
        await c.WriteAsync(TtrpcFraming.Encode(new Frame(7, FrameType.Request, 0, [0x0a, 0x09, 0x61])));
        Assert.That((await ReadResponseAsync(c, 7)).Code, Is.EqualTo(RpcCode.InvalidArgument));
    }

    [Test]
    public async Task UndecodablePayload_IsInternal_AndRpcExceptionsKeepTheirCode()
    {
        var (c, _) = await StartAsync((m, p, ct) => m == "State"
            ? Task.FromResult(ProcessRequest.Decode(p).Encode())
            : throw RpcException.NotFound("container x"));
        await SendAsync(c, 1, new TtrpcRequest(Service, "State", [0x0a, 0x7f]));
        Assert.That((await ReadResponseAsync(c, 1)).Code, Is.EqualTo(RpcCode.Internal));
        await SendAsync(c, 3, new TtrpcRequest(Service, "Kill", []));
        var r = await ReadResponseAsync(c, 3);
        Assert.That((r.Code, r.Message), Is.EqualTo((RpcCode.NotFound, "container x: not found")));
    }

    [Test]
    public async Task OversizeFrame_IsResourceExhausted_AndTheConnectionStaysUsable()
    {
        var (c, _) = await StartAsync((m, p, ct) => Task.FromResult(new byte[] { 1 }), maxRead: 4096);
        var big = new byte[TtrpcFraming.MaxData + 42];
        await c.WriteAsync(TtrpcFraming.Encode(new Frame(1, FrameType.Request, 0, big)));
        Assert.That((await ReadResponseAsync(c, 1)).Code, Is.EqualTo(RpcCode.ResourceExhausted));
        await SendAsync(c, 3, new TtrpcRequest(Service, "State", []));
        Assert.That((await ReadResponseAsync(c, 3)).Payload, Is.EqualTo(new byte[] { 1 }));
    }

    [Test]
    public async Task TimeoutNano_CancelsTheHandler_WithDeadlineExceeded()
    {
        var (c, _) = await StartAsync(async (m, p, ct) => { await Task.Delay(Timeout.Infinite, ct); return []; });
        await SendAsync(c, 1, new TtrpcRequest(Service, "Wait", [], TimeoutNano: 50_000_000));
        Assert.That((await ReadResponseAsync(c, 1)).Code, Is.EqualTo(RpcCode.DeadlineExceeded));
    }

    [Test]
    public async Task DataFrames_AreIgnored_AndAClosedConnectionEndsServing()
    {
        var (c, serving) = await StartAsync((m, p, ct) => Task.FromResult(Array.Empty<byte>()), maxRead: 3);
        await c.WriteAsync(TtrpcFraming.Encode(new Frame(1, FrameType.Data, 1, [1, 2, 3])));
        await SendAsync(c, 3, new TtrpcRequest(Service, "State", []));
        Assert.That((await ReadResponseAsync(c, 3)).Code, Is.EqualTo(RpcCode.Ok));
        c.Dispose();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Client_MatchesResponsesById_AndThrowsTheStatus()
    {
        var (c, _) = await StartAsync((m, p, ct) => m == "Kill" ? throw RpcException.NotFound("process already finished") : Task.FromResult(p));
        var client = new TtrpcClient(c);
        Assert.That(await client.CallAsync(new TtrpcRequest(Service, "Echo", [9, 9])), Is.EqualTo(new byte[] { 9, 9 }));
        var e = Assert.ThrowsAsync<RpcException>(() => client.CallAsync(new TtrpcRequest(Service, "Kill", [])));
        Assert.That(e!.Code, Is.EqualTo(RpcCode.NotFound));
    }
}
