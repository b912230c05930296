namespace ClearOci.Shim;

/// <summary>One task event: its topic and the Any (containerd.events.*) that carries it.</summary>
public sealed record TaskEvent(string Topic, AnyMessage Event)
{
    private static TaskEvent Make(string topic, string name, ProtoWriter w) => new(topic, new AnyMessage("containerd.events." + name, w.ToArray()));

    /// <summary>TaskCreate: container_id=1, bundle=2, rootfs=3, io=4 {stdin=1, stdout=2, stderr=3, terminal=4}, checkpoint=5, pid=6.</summary>
    public static TaskEvent Create(string id, string bundle, IReadOnlyList<MountSpec> rootfs, string stdin, string stdout, string stderr, bool terminal, uint pid)
    {
        var w = new ProtoWriter().String(1, id).String(2, bundle);
        foreach (var m in rootfs) w.Message(3, m.Encode());
        w.Message(4, new ProtoWriter().String(1, stdin).String(2, stdout).String(3, stderr).Bool(4, terminal));
        return Make("/tasks/create", "TaskCreate", w.Uint(6, pid));
    }

    /// <summary>TaskStart: container_id=1, pid=2.</summary>
    public static TaskEvent Start(string id, uint pid) => Make("/tasks/start", "TaskStart", new ProtoWriter().String(1, id).Uint(2, pid));

    /// <summary>TaskExit: container_id=1, id=2 (container id for init, else exec id), pid=3, exit_status=4, exited_at=5.</summary>
    public static TaskEvent Exit(string containerId, string processId, uint pid, uint exitStatus, DateTimeOffset exitedAt) =>
        Make("/tasks/exit", "TaskExit", new ProtoWriter().String(1, containerId).String(2, processId).Uint(3, pid).Uint(4, exitStatus)
            .Message(5, ProtoTime.Encode(exitedAt)));

    /// <summary>TaskDelete: container_id=1, pid=2, exit_status=3, exited_at=4, id=5 (left empty, as runc does).</summary>
    public static TaskEvent Delete(string id, uint pid, uint exitStatus, DateTimeOffset? exitedAt) =>
        Make("/tasks/delete", "TaskDelete", new ProtoWriter().String(1, id).Uint(2, pid).Uint(3, exitStatus).Message(4, ProtoTime.Encode(exitedAt)));

    public static TaskEvent ExecAdded(string id, string execId) =>
        Make("/tasks/exec-added", "TaskExecAdded", new ProtoWriter().String(1, id).String(2, execId));

    public static TaskEvent ExecStarted(string id, string execId, uint pid) =>
        Make("/tasks/exec-started", "TaskExecStarted", new ProtoWriter().String(1, id).String(2, execId).Uint(3, pid));

    public static TaskEvent Paused(string id) => Make("/tasks/paused", "TaskPaused", new ProtoWriter().String(1, id));

    public static TaskEvent Resumed(string id) => Make("/tasks/resumed", "TaskResumed", new ProtoWriter().String(1, id));

    public static TaskEvent Oom(string id) => Make("/tasks/oom", "TaskOOM", new ProtoWriter().String(1, id));

    /// <summary>
    /// The ttrpc Forward request for containerd.services.events.ttrpc.v1.Events:
    /// ForwardRequest{envelope=1 Envelope{timestamp=1, namespace=2, topic=3, event=4 Any}}.
    /// </summary>
    public byte[] ForwardRequest(string ns, DateTimeOffset timestamp) => ForwardRequest(ns, ProtoTime.Encode(timestamp));

    /// <summary>The same with an encoded Timestamp (tests compare nanosecond stamps from traces).</summary>
    public byte[] ForwardRequest(string ns, byte[] timestamp) =>
        new ProtoWriter().Message(1, new ProtoWriter().Message(1, timestamp).String(2, ns).String(3, Topic)
            .Message(4, Event.Encode())).ToArray();
}
