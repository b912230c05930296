namespace ClearOci.VmTests;

/// <summary>Verbs that start no VM.</summary>
public class CliTests
{
    [Test]
    public async Task CheckSaysVmsCanStartHere()
    {
        var r = await Cli.RunAsync(["check"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdoutText, Does.Contain("tcg").Or.Contain("kvm"));
        Assert.That(r.StdoutText, Does.Match(@"(?m)^accelerator:\s+(kvm|tcg)"));
    }

    [Test]
    public async Task VersionIsRuncsThreeLines()
    {
        var r = await Cli.RunAsync(["--version"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var lines = r.StdoutText.Split('\n');
        Assert.That(lines, Has.Length.EqualTo(4), r.ToString());
        Assert.That(lines[0], Does.StartWith("clearoci version "));
        Assert.That(lines[1], Does.StartWith("commit: "));
        Assert.That(lines[2], Does.StartWith("spec: "));
        Assert.That(lines[3], Is.Empty);
        Assert.That(r.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }
}
