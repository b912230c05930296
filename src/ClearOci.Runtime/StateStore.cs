using System.Text.Json;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Runtime;

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

/// <summary>Write to a temp file, fsync, rename over the target.</summary>
public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> data)
    {
        string tmp = $"{path}.tmp.{Environment.ProcessId}";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            f.Write(data);
            f.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>An exclusive flock held until disposed.</summary>
public sealed partial class FileLock : IDisposable
{
    private readonly int _fd;

    private FileLock(int fd) => _fd = fd;

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);

    public static FileLock Acquire(string path)
    {
        int fd = Libc.Check(Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180), $"open {path}");
        while (flock(fd, 2 /* LOCK_EX */) < 0)
        {
            if (Libc.Errno == Libc.EINTR) continue;
            var e = Libc.Error($"flock {path}");
            Libc.close(fd);
            throw e;
        }
        return new FileLock(fd);
    }

    public void Dispose() => Libc.close(_fd);
}

/// <summary>A pid plus its start time (field 22 of /proc/PID/stat), so a reused pid is never taken for ours.</summary>
public static class ProcessIdentity
{
    public static ulong StartTime(int pid)
    {
        try { return ParseStartTime(File.ReadAllText($"/proc/{pid}/stat")); }
        catch (IOException) { return 0; }
    }

    /// <summary>Field 22 of a /proc/PID/stat line; the command name may hold spaces and parentheses.</summary>
    public static ulong ParseStartTime(string stat)
    {
        int close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        return ulong.Parse(fields[22 - 3]);
    }

    public static bool IsAlive(int pid, ulong startTime)
    {
        ulong now = StartTime(pid);
        if (now == 0 || now != startTime) return false;
        try { return !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z "); }
        catch (IOException) { return false; }
    }
}
