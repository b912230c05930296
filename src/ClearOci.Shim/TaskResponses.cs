namespace ClearOci.Shim;

/// <summary>The small responses.</summary>
public static class TaskResponses
{
    /// <summary>CreateTaskResponse and StartResponse: pid=1.</summary>
    public static byte[] Pid(uint pid) => new ProtoWriter().Uint(1, pid).ToArray();

    /// <summary>DeleteResponse: pid=1, exit_status=2, exited_at=3.</summary>
    public static byte[] Delete(uint pid, uint exitStatus, DateTimeOffset? exitedAt) =>
        new ProtoWriter().Uint(1, pid).Uint(2, exitStatus).Message(3, ProtoTime.Encode(exitedAt)).ToArray();

    /// <summary>WaitResponse: exit_status=1, exited_at=2.</summary>
    public static byte[] Wait(uint exitStatus, DateTimeOffset? exitedAt) =>
        new ProtoWriter().Uint(1, exitStatus).Message(2, ProtoTime.Encode(exitedAt)).ToArray();

    /// <summary>ConnectResponse: shim_pid=1, task_pid=2, version=3.</summary>
    public static byte[] Connect(uint shimPid, uint taskPid, string version) =>
        new ProtoWriter().Uint(1, shimPid).Uint(2, taskPid).String(3, version).ToArray();

    /// <summary>PidsResponse: processes=1 repeated ProcessInfo{pid=1, info=2 Any}.</summary>
    public static byte[] Pids(IEnumerable<(uint Pid, AnyMessage? Info)> processes)
    {
        var w = new ProtoWriter();
        foreach (var (pid, info) in processes)
        {
            var p = new ProtoWriter().Uint(1, pid);
            if (info != null) p.Message(2, info.Encode());
            w.Message(1, p);
        }
        return w.ToArray();
    }

    /// <summary>containerd.runc.v1.ProcessDetails{exec_id=1}: what `ctr task ps` shows for an exec.</summary>
    public static AnyMessage ProcessDetails(string execId) =>
        new("containerd.runc.v1.ProcessDetails", new ProtoWriter().String(1, execId).ToArray());

    /// <summary>StatsResponse: stats=1 Any.</summary>
    public static byte[] Stats(AnyMessage stats) => new ProtoWriter().Message(1, stats.Encode()).ToArray();
}
