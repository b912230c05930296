namespace ClearOci.Shim;

/// <summary>StateResponse (all fields; exited_at always present, Go's zero time when the process runs).</summary>
public sealed record StateResponse(string Id, string Bundle, uint Pid, TaskState Status, string Stdin, string Stdout, string Stderr,
    bool Terminal, uint ExitStatus, DateTimeOffset? ExitedAt, string ExecId)
{
    public byte[] Encode() => new ProtoWriter().String(1, Id).String(2, Bundle).Uint(3, Pid).Uint(4, (ulong)Status)
        .String(5, Stdin).String(6, Stdout).String(7, Stderr).Bool(8, Terminal).Uint(9, ExitStatus)
        .Message(10, ProtoTime.Encode(ExitedAt)).String(11, ExecId).ToArray();
}
