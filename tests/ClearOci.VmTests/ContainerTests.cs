using System.Text;

namespace ClearOci.VmTests;

/// <summary>`clearoci run` of a busybox container in a real VM: output, exit codes, stdin, env, cwd.</summary>
public class ContainerTests : ContainerFixture
{
    private const string Path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    [Test]
    public async Task EchoPrintsExactlyHello()
    {
        var r = await Run("echo", "hello");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdoutText, Is.EqualTo("hello\n"));
        Assert.That(r.StderrText, Is.Empty);
    }

    [Test]
    public async Task ExitCodeIsPassedThrough()
    {
        var r = await Run("sh", "-c", "exit 3");
        Assert.That(r.ExitCode, Is.EqualTo(3), r.ToString());
        Assert.That(r.Stdout, Is.Empty);
    }

    [Test]
    public async Task StdoutAndStderrStaySeparate()
    {
        var r = await Run("sh", "-c", "echo out; echo err >&2; echo out2; exit 5");
        Assert.That(r.ExitCode, Is.EqualTo(5), r.ToString());
        Assert.That(r.StdoutText, Is.EqualTo("out\nout2\n"));
        Assert.That(r.StderrText, Is.EqualTo("err\n"));
    }

    [Test]
    public async Task StdinIsCopiedByteForByte()
    {
        byte[] input = new byte[1 << 20];
        new Random(20261126).NextBytes(input);
        SetProcess(["cat"]);
        var r = await RunContainer(stdin: input);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout.Length, Is.EqualTo(input.Length), "output length");
        int firstDiff = Enumerable.Range(0, input.Length).FirstOrDefault(i => r.Stdout[i] != input[i], -1);
        Assert.That(firstDiff, Is.EqualTo(-1), "first differing byte");
    }

    [Test]
    public async Task TenMegabytesOfOutputArriveIntact()
    {
        const int size = 10_000_000;
        var r = await Run("sh", "-c", $"head -c {size} /dev/zero | tr '\\0' x");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout.Length, Is.EqualTo(size), "output length");
        int bad = Array.FindIndex(r.Stdout, b => b != (byte)'x');
        Assert.That(bad, Is.EqualTo(-1), "index of the first byte that is not 'x'");
        Assert.That(r.Stderr, Is.Empty);
    }

    [Test]
    public async Task EnvironmentComesFromTheConfig()
    {
        SetProcess(["sh", "-c", "echo $FOO"], env: [Path, "FOO=bar"]);
        var r = await RunContainer();
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdoutText, Is.EqualTo("bar\n"));
    }

    [Test]
    public async Task WorkingDirectoryComesFromTheConfig()
    {
        SetProcess(["pwd"], cwd: "/tmp");
        var r = await RunContainer();
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdoutText, Is.EqualTo("/tmp\n"));
    }

    [TestCase("/nonexistent")]
    [TestCase("nosuchcmd")]
    public async Task MissingExecutableFailsWithAMessage(string program)
    {
        var r = await Run(program);
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.ToString());
        Assert.That(r.StderrText, Does.Contain(program), r.ToString());
        Assert.That(r.StderrText.ToLowerInvariant(), Does.Contain("not found").Or.Contain("no such file"), r.ToString());
        Assert.That(r.Stdout, Is.Empty);
    }

    [Test]
    public async Task DeathBySignalIs128PlusTheSignal()
    {
        // Without a pid namespace the shell is an ordinary process of the guest and can kill itself.
        EditConfig(c => c["linux"]!["namespaces"] = new System.Text.Json.Nodes.JsonArray(
            c["linux"]!["namespaces"]!.AsArray().Where(n => n!["type"]!.GetValue<string>() != "pid").Select(n => n!.DeepClone()).ToArray()));
        var r = await Run("sh", "-c", "kill -9 $$; echo survived");
        Assert.That(r.ExitCode, Is.EqualTo(137), r.ToString());
        Assert.That(r.Stdout, Is.Empty);
    }

    [Test]
    public async Task PidOneOfItsNamespaceIgnoresItsOwnSigkillAsWithRunc()
    {
        // The kernel drops signals without a handler that a pid namespace's init sends itself; runc
        // shows the same ("survived", exit 0) for this bundle.
        var r = await Run("sh", "-c", "kill -9 $$; echo survived");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdoutText, Is.EqualTo("survived\n"));
    }

    [Test]
    public async Task DockerStyleRootAndIdWork()
    {
        StateRoot = System.IO.Path.Combine(WorkDir, "run", "docker", "runtime-runc", "moby");
        Id = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"); // 64 hex digits, as Docker's ids
        var r = await Run("echo", "hello");
        Assert.That(r.StderrText, Is.Empty);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdoutText, Is.EqualTo("hello\n"));
    }

    [Test]
    public async Task RunsOnTheClearOciGuestKernel()
    {
        var r = await Run("uname", "-r");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdoutText, Does.EndWith("-clearoci\n"));
        Assert.That(r.StdoutText.TrimEnd(), Is.Not.EqualTo(Encoding.UTF8.GetString(File.ReadAllBytes("/proc/sys/kernel/osrelease")).TrimEnd()),
            "the container must not see the host's kernel");
    }
}
