namespace ClearOci.EngineTests;

/// <summary>`clearoci run --detach` (runc's `run -d`): create + start, the pid file, then the usual verbs.</summary>
[TestFixture]
public sealed class RunDetachTests
{
    [Test]
    public async Task RunDetach_StartsThenKillAndDeleteCleanUp()
    {
        string dir = Path.Combine("/tmp", $"cord-{Guid.NewGuid().ToString("N")[..8]}");
        string root = Path.Combine(dir, "root"), bundle = Path.Combine(dir, "bundle"), pidFile = Path.Combine(dir, "pid");
        string id = $"rd-{Path.GetFileName(dir)}";
        try
        {
            Ok(await Cli.RunAsync("bash", [Repo.BundleScript, bundle]));
            string config = Path.Combine(bundle, "config.json");
            File.WriteAllText(config, File.ReadAllText(config).Replace("\"sh\"", "\"sleep\", \"600\"", StringComparison.Ordinal));
            var run = await Cli.RunDetachedAsync(Cli.Binary, ["--root", root, "run", "--detach", "--bundle", bundle, "--pid-file", pidFile, id],
                Path.Combine(dir, "out"), Path.Combine(dir, "err"));
            Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
            Assert.That(File.Exists(pidFile), Is.True, "run -d writes the pid file");
            var state = Ok(await Cli.RunAsync(Cli.Binary, ["--root", root, "state", id]));
            Assert.That(state.Stdout, Does.Contain("\"status\": \"running\""), state.ToString());
            Ok(await Cli.RunAsync(Cli.Binary, ["--root", root, "kill", id, "9"]));
            await Poll.UntilAsync(() => Cli.RunAsync(Cli.Binary, ["--root", root, "state", id]), r => r.Stdout.Contains("\"status\": \"stopped\""),
                TimeSpan.FromSeconds(60), $"{id} stopped after kill 9");
            Ok(await Cli.RunAsync(Cli.Binary, ["--root", root, "delete", id]));
            Assert.That(Directory.EnumerateFileSystemEntries(root), Is.Empty, "nothing left under --root");
        }
        finally
        {
            // Idempotent: stops the supervisor and its VM if an assertion failed on the way.
            await Cli.RunAsync(Cli.Binary, ["--root", root, "delete", "--force", id]);
            Assert.That(Processes.VmProcesses(dir), Is.Empty, "no QEMU, virtiofsd or supervisor left");
            Directory.Delete(dir, recursive: true);
        }
    }

    private static CliResult Ok(CliResult r)
    {
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        return r;
    }
}
