namespace ClearOci.LifecycleTests;

/// <summary>The hidden `exec --exec-id` (the shim's names for execs): an id is reusable once its process ended, not before.</summary>
[NonParallelizable]
public class ExecIdTests : LifecycleFixture
{
    [Test]
    public async Task ExecId_ReusedAfterExit_ReportsTheNewStatus_RefusedWhileRunning()
    {
        SetArgs("sleep", "1000");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));

        Assert.That((await Oci("exec", "--exec-id", "same", id, "sh", "-c", "exit 3")).ExitCode, Is.EqualTo(3));
        Assert.That((await Oci("exec", "--exec-id", "same", id, "sh", "-c", "exit 5")).ExitCode, Is.EqualTo(5),
            "the second run's own status, not the first's");

        string pidFile = Path.Combine(WorkDir, "busy.pid");
        var detached = await Cli.RunDetachedAsync(Cli.Binary,
            ["--root", StateRoot, "exec", "--detach", "--exec-id", "busy", "--pid-file", pidFile, id, "sleep", "1000"],
            Path.Combine(WorkDir, "busy.out"), Path.Combine(WorkDir, "busy.err"), Cli.VerbTimeout);
        Assert.That(detached.ExitCode, Is.EqualTo(0), detached.ToString());
        int relay = int.Parse(File.ReadAllText(pidFile).Trim());
        try
        {
            AssertFails(await Oci("exec", "--exec-id", "busy", id, "true"), "exec id busy is in use");
            Assert.That((await Oci("kill", "--exec-id", "busy", id, "KILL")).ExitCode, Is.EqualTo(0));
            Assert.That(Native.Reap(relay, StatusDeadline), Is.EqualTo(new WaitResult(true, 137, 0)));
            relay = 0;
            Assert.That((await Oci("exec", "--exec-id", "busy", id, "sh", "-c", "exit 4")).ExitCode, Is.EqualTo(4), "free again once it ended");
        }
        finally
        {
            if (relay > 0) Native.TryReap(relay, TimeSpan.FromSeconds(20));
        }

        Assert.That((await Oci("kill", id, "KILL")).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 137, 0)));
    }
}
