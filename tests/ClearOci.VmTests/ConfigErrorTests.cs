using System.Diagnostics;

namespace ClearOci.VmTests;

/// <summary>
/// A broken bundle is refused before any VM exists: exit 1, a message naming config.json, fast,
/// no state directory, and no QEMU (or any other process mentioning the id) ever started.
/// </summary>
public class ConfigErrorTests : ContainerFixture
{
    /// <summary>Far below one VM boot (about 3 s here), with room for a loaded 2-core host.</summary>
    private static readonly TimeSpan FastEnough = TimeSpan.FromSeconds(1.5);

    private async Task<CliResult> RunWatchingForChildren()
    {
        int child = 0;
        var seen = new List<Processes.Info>();
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var p in Processes.Matching(Id, Bundle))
                    if (p.Pid != Volatile.Read(ref child) && !seen.Any(s => s.Pid == p.Pid)) lock (seen) seen.Add(p);
                // A QEMU, once spawned, lives for seconds; a gentle poll leaves the 2 cores to clearoci.
                Thread.Sleep(10);
            }
        });
        var r = await RunContainer(started: pid => Volatile.Write(ref child, pid));
        stop.Cancel();
        await watcher;
        Assert.That(seen.Where(p => p.Pid != child), Is.Empty, "processes started for the container (e.g. qemu-system-x86_64, virtiofsd)");
        return r;
    }

    private void AssertRefused(CliResult r, string mustMention)
    {
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.StderrText, Does.Contain("config.json"), r.ToString());
        Assert.That(r.StderrText, Does.Contain(mustMention), r.ToString());
        Assert.That(r.Elapsed, Is.LessThan(FastEnough), "refused before any VM boot");
        Assert.That(r.Stdout, Is.Empty);
        Assert.That(Directory.Exists(Path.Combine(StateRoot, Id)), Is.False, "no state directory");
    }

    [Test]
    public async Task InvalidJson()
    {
        File.WriteAllText(ConfigPath, "{\n  \"ociVersion\": \"1.2.0\",\n  \"process\": {\"args\": [\"sh\"],\n");
        AssertRefused(await RunWatchingForChildren(), "config.json:");
    }

    [Test]
    public async Task MissingRootfs()
    {
        Directory.Delete(Path.Combine(Bundle, "rootfs"), recursive: true);
        AssertRefused(await RunWatchingForChildren(), "rootfs");
    }

    [Test]
    public async Task RootPathNamesNothing()
    {
        EditConfig(c => c["root"]!["path"] = "no-such-rootfs");
        AssertRefused(await RunWatchingForChildren(), "no-such-rootfs");
    }

    [Test]
    public async Task MissingConfigFile()
    {
        File.Delete(ConfigPath);
        AssertRefused(await RunWatchingForChildren(), "no such file or directory");
    }

    [Test]
    public async Task EmptyArgs()
    {
        SetProcess([]);
        AssertRefused(await RunWatchingForChildren(), "$.process.args");
    }
}
