using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// OOM kills in the container's cgroup (linux.resources.memory.limit, in the guest) reach the
/// host: `events` prints runc's {"type":"oom","id":...} as they happen.
/// </summary>
[NonParallelizable]
public class OomTests : LifecycleFixture
{
    private const long Limit = 16L << 20;

    /// <summary>`clearoci events --interval 1s ID` running beside the test; its lines as they come.</summary>
    private sealed class EventsWatcher : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];
        private readonly Task _reading;

        public EventsWatcher(string root, string id)
        {
            var psi = new ProcessStartInfo(Cli.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in (string[])["--root", root, "events", "--interval", "1s", id]) psi.ArgumentList.Add(a);
            _process = Process.Start(psi)!;
            _reading = Task.Run(async () =>
            {
                while (await _process.StandardOutput.ReadLineAsync() is { } line)
                    lock (_lines) _lines.Add(line);
            });
            Stderr = _process.StandardError.ReadToEndAsync();
        }

        public Task<string> Stderr { get; }

        public List<string> Lines { get { lock (_lines) return [.. _lines]; } }

        public List<JsonObject> Events(string type) =>
            Lines.Select(l => JsonNode.Parse(l)!.AsObject()).Where(e => (string?)e["type"] == type).ToList();

        /// <summary>Waits for its exit (it ends when the container stops); returns the exit code.</summary>
        public async Task<int> ExitAsync(TimeSpan deadline)
        {
            using var cts = new CancellationTokenSource(deadline);
            await _process.WaitForExitAsync(cts.Token);
            await _reading;
            return _process.ExitCode;
        }

        public bool Running => !_process.HasExited;

        public void Dispose()
        {
            try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
            _process.WaitForExit(TimeSpan.FromSeconds(10));
            _process.Dispose();
        }
    }

    private void SetMemoryLimit() => EditConfig(c =>
    {
        var linux = c["linux"]!.AsObject();
        if (linux["resources"] is not JsonObject resources) linux["resources"] = resources = new JsonObject();
        resources["memory"] = new JsonObject { ["limit"] = Limit };
    });

    /// <summary>The watcher is subscribed once it printed its first stats line (it subscribes first).</summary>
    private static Task WaitSubscribedAsync(EventsWatcher w) =>
        Poll.UntilAsync(() => w.Lines.Count, n => n > 0 || !w.Running, StatusDeadline, "the first line of `events`");

    [Test]
    public async Task Init_BeyondItsMemoryLimit_IsOomKilledAndEventsReportsOom()
    {
        // busybox tail keeps everything it read while it looks for line ends: /dev/zero has none.
        SetArgs("tail", "/dev/zero");
        SetMemoryLimit();
        string id = NewId();
        var c = await CreateAsync(id);
        using var events = new EventsWatcher(StateRoot, id);
        await WaitSubscribedAsync(events);
        Assert.That(events.Running, Is.True, "events ended early");

        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 137, 0)), "the supervisor exits with the SIGKILLed process's status");
        Assert.That(await events.ExitAsync(StatusDeadline), Is.EqualTo(0), $"events ends when the container stops: {await events.Stderr}");
        var oom = events.Events("oom");
        Assert.That(oom, Has.Count.EqualTo(1), string.Join("\n", events.Lines));
        Assert.That(oom[0].ToJsonString(), Is.EqualTo($$"""{"type":"oom","id":"{{id}}"}"""));
        Assert.That(events.Events("stats"), Is.Not.Empty);
        Assert.That(await StatusAsync(id), Is.EqualTo("stopped"));
    }

    [Test]
    public async Task ChildOomKilled_ContainerKeepsRunning_EventsReportsOomAtOnce()
    {
        // The victim is a child the agent does not reap: only the memory.events watch sees the kill.
        SetArgs("sh", "-c", "tail /dev/zero; echo \"tail=$?\"; exec sleep 1000");
        SetMemoryLimit();
        string id = NewId();
        var c = await CreateAsync(id);
        using var events = new EventsWatcher(StateRoot, id);
        await WaitSubscribedAsync(events);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(c, "tail=137");
        await Poll.UntilAsync(() => events.Events("oom").Count, n => n > 0, StatusDeadline, "an oom event while the container runs");
        Assert.That(await StatusAsync(id), Is.EqualTo("running"));
        Assert.That(events.Running, Is.True, "events follows the container until it stops");

        Assert.That((await Oci("kill", id, "KILL")).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 137, 0)));
        Assert.That(await events.ExitAsync(StatusDeadline), Is.EqualTo(0));
        Assert.That(events.Events("oom"), Has.Count.EqualTo(1), "one kill, one event: " + string.Join("\n", events.Lines));
    }
}
