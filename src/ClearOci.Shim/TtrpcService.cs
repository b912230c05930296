namespace ClearOci.Shim;

/// <summary>A ttrpc service: one method name and payload in, the response payload out (or an RpcException).</summary>
public delegate Task<byte[]> TtrpcService(string method, byte[] payload, CancellationToken ct);
