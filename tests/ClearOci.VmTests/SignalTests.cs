namespace ClearOci.VmTests;

/// <summary>Signals sent to `clearoci run` go to the container, and never crash or leak the runtime.</summary>
public class SignalTests : ContainerFixture
{
    private const string TrapTerm = "trap 'echo got TERM; exit 42' TERM; echo ready; while true; do sleep 0.1; done";

    private Task WaitForQemu() => Task.Run(async () =>
    {
        while (!Processes.Matching($"clearoci-{Id}").Any(p => p.CommandLine.Contains("qemu-system", StringComparison.Ordinal)))
            await Task.Delay(5);
    });

    [Test]
    public async Task SigtermIsForwardedToTheContainer()
    {
        SetProcess(["sh", "-c", TrapTerm]);
        var r = await RunContainer(whileRunning: async (pid, stdout) =>
        {
            await stdout.WaitFor("ready\n").WaitAsync(TimeSpan.FromSeconds(60));
            Assert.That(Cli.Kill(pid, 15), Is.True);
        });
        Assert.That(r.StderrText, Does.Not.Contain("Unhandled exception"), r.ToString());
        Assert.That(r.ExitCode, Is.EqualTo(42), r.ToString());
        Assert.That(r.StdoutText, Is.EqualTo("ready\ngot TERM\n"));
    }

    [Test]
    public async Task SigtermWhileTheVmBootsEndsCleanly()
    {
        SetProcess(["sh", "-c", TrapTerm]);
        var r = await RunContainer(whileRunning: async (pid, _) =>
        {
            await WaitForQemu();
            await Task.Delay(300); // inside the boot (about 3 s under TCG here)
            Assert.That(Cli.Kill(pid, 15), Is.True);
        });
        AssertNothingLeftBehind();
        Assert.That(r.StderrText, Does.Not.Contain("Unhandled exception"), r.ToString());
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.ToString());
        Assert.That(r.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public async Task SigtermRightAfterQemuStartsLeavesNothingBehind()
    {
        SetProcess(["sh", "-c", TrapTerm]);
        var r = await RunContainer(whileRunning: async (pid, _) =>
        {
            await WaitForQemu();
            Assert.That(Cli.Kill(pid, 15), Is.True);
        });
        AssertNothingLeftBehind();
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.ToString());
    }
}
