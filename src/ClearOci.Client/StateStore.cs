using System.Text.Json;
using ClearOci.Spec;

namespace ClearOci.Client;

/// <summary>
/// `<root>/<id>/`: state.json written atomically (temp file, fsync, rename) under an flock on
/// `lock`; `sock` is the supervisor's socket; logs of QEMU, virtiofsd and the console.
/// </summary>
public sealed class StateStore
{
    public StateStore(string root) => Root = Path.GetFullPath(root);

    public string Root { get; }
    public string Dir(string id) => Path.Combine(Root, id);
    public string SocketPath(string id) => Path.Combine(Dir(id), "sock");
    private string StatePath(string id) => Path.Combine(Dir(id), "state.json");
    private string LockPath(string id) => Path.Combine(Dir(id), "lock");

    public bool Exists(string id) => Directory.Exists(Dir(id));

    public ContainerRecord Read(string id)
    {
        ContainerId.Validate(id);
        string path = StatePath(id);
        if (!Directory.Exists(Dir(id))) throw new ClearOciException(ErrorCode.NotFound, $"container does not exist: {id}");
        using var _ = Lock(id);
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), RuntimeJsonContext.Default.ContainerRecord)
                ?? throw new ClearOciException(ErrorCode.Internal, $"{path}: empty state");
        }
        catch (FileNotFoundException) { throw new ClearOciException(ErrorCode.NotFound, $"container does not exist: {id}"); }
        catch (JsonException e) { throw new ClearOciException(ErrorCode.Internal, $"{path}: corrupt state: {e.Message}"); }
    }

    public void Write(ContainerRecord record)
    {
        using var _ = Lock(record.Id);
        AtomicFile.Write(StatePath(record.Id), JsonSerializer.SerializeToUtf8Bytes(record, RuntimeJsonContext.Default.ContainerRecord));
    }

    /// <summary>Reads, transforms and writes under one lock.</summary>
    public ContainerRecord Update(string id, Func<ContainerRecord, ContainerRecord> change)
    {
        using var _ = Lock(id);
        var record = JsonSerializer.Deserialize(File.ReadAllBytes(StatePath(id)), RuntimeJsonContext.Default.ContainerRecord)!;
        var updated = change(record);
        AtomicFile.Write(StatePath(id), JsonSerializer.SerializeToUtf8Bytes(updated, RuntimeJsonContext.Default.ContainerRecord));
        return updated;
    }

    /// <summary>The status to report: a live state whose supervisor is gone (or whose pid was reused) is stopped.</summary>
    public static Status Effective(ContainerRecord r)
    {
        if (r.Status is Status.Stopped) return Status.Stopped;
        if (r.SupervisorPid <= 0) return r.Status; // still being created, by a live `create`
        return ProcessIdentity.IsAlive(r.SupervisorPid, r.SupervisorStartTime) ? r.Status : Status.Stopped;
    }

    public IEnumerable<string> Ids() =>
        Directory.Exists(Root) ? Directory.GetDirectories(Root).Select(Path.GetFileName).Where(ContainerId.IsValid).Order()! : [];

    private FileLock Lock(string id) => FileLock.Acquire(LockPath(id));
}
