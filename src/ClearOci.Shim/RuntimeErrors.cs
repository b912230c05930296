namespace ClearOci.Shim;

/// <summary>
/// ClearOci's error codes on the ttrpc wire: the one place they are mapped. containerd turns the
/// status code into its errdefs class (errdefs.FromGRPC), which ctr prints ("...: not found") and
/// CRI and kubelet act on (e.g. a Kill answered NotFound means "already exited").
/// </summary>
public static class RuntimeErrors
{
    /// <summary>
    /// Unsupported is Unimplemented: errdefs' ErrNotImplemented, what containerd and the runc
    /// shim answer for a feature they lack (Checkpoint here). System, Agent: Unknown, as the runc
    /// shim reports any runc failure. Internal (a ClearOci bug) stays Internal.
    /// </summary>
    public static RpcCode Code(ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument => RpcCode.InvalidArgument,
        ErrorCode.NotFound => RpcCode.NotFound,
        ErrorCode.AlreadyExists => RpcCode.AlreadyExists,
        ErrorCode.InvalidState => RpcCode.FailedPrecondition,
        ErrorCode.Unsupported => RpcCode.Unimplemented,
        ErrorCode.Timeout => RpcCode.DeadlineExceeded,
        ErrorCode.Internal => RpcCode.Internal,
        _ => RpcCode.Unknown, // System, Agent
    };

    /// <summary>The error as the shim answers it: runc's shim words ("OCI runtime start failed: ...") and the mapped code.</summary>
    public static RpcException ToRpc(string verb, ClearOciException e) => new(Code(e.Code), $"OCI runtime {verb} failed: {e.Message}");

    /// <summary>
    /// Runs a blocking ClearOci.Runtime call (it waits on the supervisor's socket, up to its own
    /// timeout) on a thread of its own, off the ttrpc and pool threads; its error keeps its code.
    /// </summary>
    public static async Task<T> RunAsync<T>(string verb, Func<T> call)
    {
        try
        {
            return await Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (ClearOciException e) { throw ToRpc(verb, e); }
    }

    public static Task RunAsync(string verb, Action call) => RunAsync(verb, () =>
    {
        call();
        return true;
    });
}
