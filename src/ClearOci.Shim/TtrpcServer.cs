using System.Net.Sockets;

namespace ClearOci.Shim;

/// <summary>
/// ttrpc server side of one connection: frames are read in order, each request runs on its own
/// task (a Wait can stay open for days while other calls flow), and responses are written as
/// they complete, whole frames under one lock per connection.
/// </summary>
/// <remarks><paramref name="afterResponse"/> runs once each response is on the wire (the shim exits after Shutdown's).</remarks>
public sealed class TtrpcServer(IReadOnlyDictionary<string, TtrpcService> services, Action<string>? log = null, Action? afterResponse = null)
{
    public async Task ServeAsync(Stream stream, CancellationToken ct = default)
    {
        var writeLock = new SemaphoreSlim(1, 1);
        var running = new List<Task>();
        try
        {
            while (true)
            {
                var next = await TtrpcFraming.ReadAsync(stream, ct).ConfigureAwait(false);
                if (next is null) break;
                var (frame, oversize) = next.Value;
                if (frame.Type != FrameType.Request) continue; // no streams in the Task API: data frames are ignored
                if (oversize)
                {
                    await SendAsync(stream, writeLock, frame.StreamId, TtrpcResponse.Error(RpcCode.ResourceExhausted,
                        $"message length exceeds maximum message size of {TtrpcFraming.MaxData}")).ConfigureAwait(false);
                    continue;
                }
                if (frame.StreamId % 2 == 0)
                {
                    await SendAsync(stream, writeLock, frame.StreamId, TtrpcResponse.Error(RpcCode.InvalidArgument,
                        "StreamID must be odd for client initiated streams")).ConfigureAwait(false);
                    continue;
                }
                TtrpcRequest request;
                try { request = TtrpcRequest.Decode(frame.Data); }
                catch (ProtoException e)
                {
                    await SendAsync(stream, writeLock, frame.StreamId, TtrpcResponse.Error(RpcCode.InvalidArgument, $"unmarshal request error: {e.Message}")).ConfigureAwait(false);
                    continue;
                }
                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(async () =>
                    await SendAsync(stream, writeLock, frame.StreamId, await DispatchAsync(request, ct).ConfigureAwait(false)).ConfigureAwait(false), CancellationToken.None));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or EndOfStreamException or OperationCanceledException or ObjectDisposedException)
        {
            log?.Invoke($"ttrpc connection ended: {e.Message}");
        }
    }

    /// <summary>Runs one request to its response; never throws.</summary>
    public async Task<TtrpcResponse> DispatchAsync(TtrpcRequest request, CancellationToken ct)
    {
        if (!services.TryGetValue(request.Service, out var service))
            return TtrpcResponse.Error(RpcCode.Unimplemented, $"service {request.Service}");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // CancelAfter takes at most ~49 days: a longer deadline is as good as none.
        if (request.TimeoutNano > 0 && request.TimeoutNano / 100 < TimeSpan.FromDays(49).Ticks)
            deadline.CancelAfter(TimeSpan.FromTicks(Math.Max(1, request.TimeoutNano / 100)));
        try
        {
            return TtrpcResponse.Ok(await service(request.Method, request.Payload, deadline.Token).ConfigureAwait(false));
        }
        catch (RpcException e) { return TtrpcResponse.Error(e.Code, e.Message); }
        catch (ProtoException e) { return TtrpcResponse.Error(RpcCode.Internal, $"ttrpc: error unmarshalling payload: {e.Message}"); }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return TtrpcResponse.Error(RpcCode.DeadlineExceeded, $"/{request.Service}/{request.Method}: deadline exceeded");
        }
        catch (Exception e)
        {
            log?.Invoke($"/{request.Service}/{request.Method} failed: {e}");
            return TtrpcResponse.Error(RpcCode.Unknown, e.Message);
        }
    }

    private async Task SendAsync(Stream stream, SemaphoreSlim writeLock, uint streamId, TtrpcResponse response)
    {
        byte[] bytes = TtrpcFraming.Encode(new Frame(streamId, FrameType.Response, 0, response.Encode()));
        await writeLock.WaitAsync().ConfigureAwait(false);
        try { await stream.WriteAsync(bytes).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException) { /* the peer left */ }
        finally { writeLock.Release(); }
        afterResponse?.Invoke();
    }
}
