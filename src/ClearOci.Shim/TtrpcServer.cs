using System.Net.Sockets;

namespace ClearOci.Shim;

/// <summary>A ttrpc service: one method name and payload in, the response payload out (or an RpcException).</summary>
public delegate Task<byte[]> TtrpcService(string method, byte[] payload, CancellationToken ct);

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

/// <summary>
/// A ttrpc client for one call at a time (the event publisher, tests): odd stream ids from 1,
/// responses matched by id.
/// </summary>
public sealed class TtrpcClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private uint _nextId = 1;

    public TtrpcClient(Stream stream) => _stream = stream;

    public static async Task<TtrpcClient> ConnectAsync(string path, CancellationToken ct = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
            return new TtrpcClient(new NetworkStream(socket, ownsSocket: true));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends the request and returns the response payload; a non-OK status becomes an RpcException.</summary>
    public async Task<byte[]> CallAsync(TtrpcRequest request, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            uint id = _nextId;
            _nextId += 2;
            await _stream.WriteAsync(TtrpcFraming.Encode(new Frame(id, FrameType.Request, 0, request.Encode())), ct).ConfigureAwait(false);
            while (true)
            {
                var next = await TtrpcFraming.ReadAsync(_stream, ct).ConfigureAwait(false)
                    ?? throw new IOException("the ttrpc server closed the connection");
                if (next.Frame.Type != FrameType.Response || next.Frame.StreamId != id) continue;
                var response = TtrpcResponse.Decode(next.Frame.Data);
                if (response.Code != RpcCode.Ok) throw new RpcException(response.Code, response.Message);
                return response.Payload;
            }
        }
        finally { _lock.Release(); }
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
