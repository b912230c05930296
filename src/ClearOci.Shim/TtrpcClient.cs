using System.Net.Sockets;

namespace ClearOci.Shim;

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
