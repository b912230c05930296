namespace ClearOci.Shim;

/// <summary>An RPC failure with the code the peer sees. Messages follow runc's "detail: class" style.</summary>
public sealed class RpcException(RpcCode code, string message) : Exception(message)
{
    public RpcCode Code { get; } = code;

    public static RpcException NotFound(string what) => new(RpcCode.NotFound, $"{what}: not found");
}
