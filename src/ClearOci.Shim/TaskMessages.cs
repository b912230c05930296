namespace ClearOci.Shim;

/// <summary>containerd.v1.types.Status.</summary>
public enum TaskState { Unknown = 0, Created = 1, Running = 2, Stopped = 3, Paused = 4, Pausing = 5 }

/// <summary>containerd.types.Mount: type=1, source=2, target=3, options=4 (repeated).</summary>
public sealed record MountSpec(string Type, string Source, string Target, IReadOnlyList<string> Options)
{
    public byte[] Encode()
    {
        var w = new ProtoWriter().String(1, Type).String(2, Source).String(3, Target);
        foreach (var o in Options) w.Bytes(4, System.Text.Encoding.UTF8.GetBytes(o));
        return w.ToArray();
    }

    public static MountSpec Decode(ReadOnlySpan<byte> data)
    {
        string type = "", source = "", target = "";
        var options = new List<string>();
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: type = r.String(); break;
                case 2: source = r.String(); break;
                case 3: target = r.String(); break;
                case 4: options.Add(r.String()); break;
                default: r.Skip(); break;
            }
        }
        return new MountSpec(type, source, target, options);
    }
}

/// <summary>The Task requests, decoded. Field numbers are containerd.task.v2's (shim-v2.md §3.2).</summary>
public sealed record CreateTaskRequest(string Id, string Bundle, IReadOnlyList<MountSpec> Rootfs, bool Terminal,
    string Stdin, string Stdout, string Stderr, string Checkpoint, AnyMessage? Options)
{
    public static CreateTaskRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", bundle = "", stdin = "", stdout = "", stderr = "", checkpoint = "";
        bool terminal = false;
        var rootfs = new List<MountSpec>();
        AnyMessage? options = null;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: bundle = r.String(); break;
                case 3: rootfs.Add(MountSpec.Decode(r.Bytes())); break;
                case 4: terminal = r.Bool(); break;
                case 5: stdin = r.String(); break;
                case 6: stdout = r.String(); break;
                case 7: stderr = r.String(); break;
                case 8: checkpoint = r.String(); break;
                case 10: options = AnyMessage.Decode(r.Bytes()); break;
                default: r.Skip(); break;
            }
        }
        return new CreateTaskRequest(id, bundle, rootfs, terminal, stdin, stdout, stderr, checkpoint, options);
    }

    public byte[] Encode()
    {
        var w = new ProtoWriter().String(1, Id).String(2, Bundle);
        foreach (var m in Rootfs) w.Message(3, m.Encode());
        w.Bool(4, Terminal).String(5, Stdin).String(6, Stdout).String(7, Stderr).String(8, Checkpoint);
        if (Options != null) w.Message(10, Options.Encode());
        return w.ToArray();
    }
}

/// <summary>Requests that name a process: id=1, exec_id=2 (State, Start, Delete, Wait), plus the Kill/CloseIO/Shutdown extras.</summary>
public sealed record ProcessRequest(string Id, string ExecId)
{
    public static ProcessRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "";
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1) id = r.String();
            else if (f == 2) exec = r.String();
            else r.Skip();
        }
        return new ProcessRequest(id, exec);
    }

    public byte[] Encode() => new ProtoWriter().String(1, Id).String(2, ExecId).ToArray();
}

/// <summary>KillRequest: id=1, exec_id=2, signal=3, all=4.</summary>
public sealed record KillRequest(string Id, string ExecId, uint Signal, bool All)
{
    public static KillRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "";
        uint signal = 0;
        bool all = false;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: exec = r.String(); break;
                case 3: signal = r.Uint32(); break;
                case 4: all = r.Bool(); break;
                default: r.Skip(); break;
            }
        }
        return new KillRequest(id, exec, signal, all);
    }

    public byte[] Encode() => new ProtoWriter().String(1, Id).String(2, ExecId).Uint(3, Signal).Bool(4, All).ToArray();
}

/// <summary>ExecProcessRequest: id=1, exec_id=2, terminal=3, stdin=4, stdout=5, stderr=6, spec=7 (Any: OCI Process JSON).</summary>
public sealed record ExecProcessRequest(string Id, string ExecId, bool Terminal, string Stdin, string Stdout, string Stderr, AnyMessage? Spec)
{
    public static ExecProcessRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "", stdin = "", stdout = "", stderr = "";
        bool terminal = false;
        AnyMessage? spec = null;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: exec = r.String(); break;
                case 3: terminal = r.Bool(); break;
                case 4: stdin = r.String(); break;
                case 5: stdout = r.String(); break;
                case 6: stderr = r.String(); break;
                case 7: spec = AnyMessage.Decode(r.Bytes()); break;
                default: r.Skip(); break;
            }
        }
        return new ExecProcessRequest(id, exec, terminal, stdin, stdout, stderr, spec);
    }

    public byte[] Encode()
    {
        var w = new ProtoWriter().String(1, Id).String(2, ExecId).Bool(3, Terminal).String(4, Stdin).String(5, Stdout).String(6, Stderr);
        if (Spec != null) w.Message(7, Spec.Encode());
        return w.ToArray();
    }
}

/// <summary>CloseIORequest: id=1, exec_id=2, stdin=3.</summary>
public sealed record CloseIoRequest(string Id, string ExecId, bool Stdin)
{
    public static CloseIoRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "";
        bool stdin = false;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: exec = r.String(); break;
                case 3: stdin = r.Bool(); break;
                default: r.Skip(); break;
            }
        }
        return new CloseIoRequest(id, exec, stdin);
    }
}

/// <summary>ResizePtyRequest: id=1, exec_id=2, width=3, height=4.</summary>
public sealed record ResizePtyRequest(string Id, string ExecId, uint Width, uint Height)
{
    public static ResizePtyRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "", exec = "";
        uint width = 0, height = 0;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: id = r.String(); break;
                case 2: exec = r.String(); break;
                case 3: width = r.Uint32(); break;
                case 4: height = r.Uint32(); break;
                default: r.Skip(); break;
            }
        }
        return new ResizePtyRequest(id, exec, width, height);
    }
}

/// <summary>ShutdownRequest: id=1, now=2.</summary>
public sealed record ShutdownRequest(string Id, bool Now)
{
    public static ShutdownRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "";
        bool now = false;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1) id = r.String();
            else if (f == 2) now = r.Bool();
            else r.Skip();
        }
        return new ShutdownRequest(id, now);
    }
}

/// <summary>UpdateTaskRequest: id=1, resources=2 (Any: LinuxResources JSON), annotations=3.</summary>
public sealed record UpdateTaskRequest(string Id, AnyMessage? Resources)
{
    public static UpdateTaskRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "";
        AnyMessage? resources = null;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1) id = r.String();
            else if (f == 2) resources = AnyMessage.Decode(r.Bytes());
            else r.Skip();
        }
        return new UpdateTaskRequest(id, resources);
    }
}

/// <summary>StateResponse (all fields; exited_at always present, Go's zero time when the process runs).</summary>
public sealed record StateResponse(string Id, string Bundle, uint Pid, TaskState Status, string Stdin, string Stdout, string Stderr,
    bool Terminal, uint ExitStatus, DateTimeOffset? ExitedAt, string ExecId)
{
    public byte[] Encode() => new ProtoWriter().String(1, Id).String(2, Bundle).Uint(3, Pid).Uint(4, (ulong)Status)
        .String(5, Stdin).String(6, Stdout).String(7, Stderr).Bool(8, Terminal).Uint(9, ExitStatus)
        .Message(10, ProtoTime.Encode(ExitedAt)).String(11, ExecId).ToArray();
}

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
