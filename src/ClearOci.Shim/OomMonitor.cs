using System.Text;
using System.Text.Json;
using ClearOci.Native;
using Microsoft.Win32.SafeHandles;

namespace ClearOci.Shim;

/// <summary>
/// Follows `clearoci events` of one container for its whole life (as containerd's first runc
/// shims followed `runc events`) and reports each {"type":"oom"} line; the stats lines are
/// ignored. The CLI ends when the container has stopped, after its last events.
/// </summary>
internal sealed class OomMonitor
{
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OomMonitor() { }

    /// <summary>Completes once the CLI is subscribed (its first line), or when it ended without one.</summary>
    public Task Subscribed => _subscribed.Task;

    /// <summary>Completes when the CLI has ended: every OOM of the container has been reported.</summary>
    public Task Done { get; private set; } = Task.CompletedTask;

    public static OomMonitor Start(CliRunner cli, IReadOnlyList<string> eventsCommand, string cwd, Action onOom, Action<string> log)
    {
        var m = new OomMonitor();
        var (read, write) = Libc.Pipe();
        int devNull = Libc.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open /dev/null");
        Task<CliResult> run;
        try { run = cli.RunAsync(eventsCommand, stdio: (devNull, write, devNull), cwd: cwd); } // spawns before it returns
        catch
        {
            Libc.close(read);
            throw;
        }
        finally
        {
            Libc.close(write);
            Libc.close(devNull);
        }
        var reading = Task.Factory.StartNew(() => m.Read(read, onOom, log), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        m.Done = Task.WhenAll(reading, run.ContinueWith(t =>
        {
            if (t.IsFaulted || !t.Result.Ok) log($"clearoci events ended: {(t.IsFaulted ? t.Exception!.GetBaseException().Message : $"exit status {t.Result.ExitCode}")}");
        }, TaskScheduler.Default));
        return m;
    }

    private void Read(int fd, Action onOom, Action<string> log)
    {
        try
        {
            using var reader = new StreamReader(new FileStream(new SafeFileHandle(fd, true), FileAccess.Read, 0), Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                _subscribed.TrySetResult();
                if (IsOom(line)) onOom();
            }
        }
        catch (Exception e) { log($"reading clearoci events: {e.Message}"); }
        finally { _subscribed.TrySetResult(); }
    }

    /// <summary>A runc-style event line of type "oom".</summary>
    public static bool IsOom(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("oom");
        }
        catch (JsonException) { return false; }
    }
}
