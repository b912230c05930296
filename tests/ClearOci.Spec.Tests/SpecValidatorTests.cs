namespace ClearOci.Spec.Tests;

public class SpecValidatorTests
{
    private static OciSpec Valid() => new()
    {
        OciVersion = "1.0.2-dev",
        Process = new Process { Args = ["sh"], Cwd = "/", Env = ["PATH=/bin"] },
        Root = new Root { Path = "rootfs" },
        Linux = new Linux { Namespaces = [new() { Type = "pid" }, new() { Type = "mount" }] },
    };

    [Test]
    public void Check_ValidSpec_ReturnsNoProblems() => Assert.That(SpecValidator.Check(Valid()), Is.Empty);

    [TestCase("1.0.0")]
    [TestCase("1.0.2-dev")]
    [TestCase("1.1.0+dev")]
    [TestCase("1.2")]
    public void Check_Version1x_IsAccepted(string version)
    {
        var spec = Valid() with { OciVersion = version };

        Assert.That(SpecValidator.Check(spec), Is.Empty);
    }

    [TestCase("2.0.0")]
    [TestCase("1")]
    [TestCase("1.x")]
    [TestCase("v1.0.0")]
    [TestCase("0.6.0")]
    public void Check_VersionNot1x_IsRejected(string version)
    {
        var spec = Valid() with { OciVersion = version };

        Assert.That(SpecValidator.Check(spec).Single().Path, Is.EqualTo("$.ociVersion"));
    }

    [Test]
    public void Check_SeveralProblems_ReportsAllInDocumentOrder()
    {
        var spec = Valid();
        spec.OciVersion = "";
        spec.Process!.Cwd = "tmp";
        spec.Process.Env = ["A=1", "=x", "B"];
        spec.Mounts = [new Mount { Destination = "/ok" }, new Mount { Destination = "" }];
        spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "mount", Path = "ns" });

        string[] paths = SpecValidator.Check(spec).Select(p => p.Path).ToArray();

        Assert.That(paths, Is.EqualTo(new[]
        {
            "$.ociVersion", "$.process.cwd", "$.process.env[1]", "$.process.env[2]", "$.mounts[1].destination",
            "$.linux.namespaces[2].type", "$.linux.namespaces[2].path",
        }));
    }

    [Test]
    public void Check_DuplicateRlimit_IsReported()
    {
        var spec = Valid();
        spec.Process!.Rlimits = [new() { Type = "RLIMIT_NOFILE", Hard = 2, Soft = 1 }, new() { Type = "RLIMIT_NOFILE", Hard = 2, Soft = 2 }];

        Assert.That(SpecValidator.Check(spec), Is.EqualTo(new[]
        {
            new SpecProblem("$.process.rlimits[1].type", "duplicate rlimit type \"RLIMIT_NOFILE\" (first at $.process.rlimits[0])"),
        }));
    }

    [Test]
    public void Check_HookTimeoutZero_IsReported()
    {
        var spec = Valid();
        spec.Hooks = new Hooks { CreateRuntime = [new Hook { Path = "/bin/true", Timeout = 0 }] };

        Assert.That(SpecValidator.Check(spec).Single(),
            Is.EqualTo(new SpecProblem("$.hooks.createRuntime[0].timeout", "0 is not a positive number of seconds")));
    }

    [Test]
    public void Check_OomScoreAdjOutOfRange_IsReported()
    {
        var spec = Valid();
        spec.Process!.OomScoreAdj = 1001;

        Assert.That(SpecValidator.Check(spec).Single().Path, Is.EqualTo("$.process.oomScoreAdj"));
    }

    [Test]
    public void Check_SeccompSyscallWithoutNames_IsReported()
    {
        var spec = Valid();
        spec.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ERRNO", Syscalls = [new LinuxSyscall { Action = "SCMP_ACT_ALLOW" }] };

        Assert.That(SpecValidator.Check(spec).Single().Path, Is.EqualTo("$.linux.seccomp.syscalls[0].names"));
    }

    [Test]
    public void Check_UnknownRootfsPropagation_IsReported()
    {
        var spec = Valid();
        spec.Linux!.RootfsPropagation = "slaves";

        Assert.That(SpecValidator.Check(spec).Single(), Is.EqualTo(new SpecProblem("$.linux.rootfsPropagation",
            "unknown propagation \"slaves\"; expected one of private, rprivate, slave, rslave, shared, rshared, unbindable or runbindable")));
    }

    [Test]
    public void CheckProcess_NoArgs_IsReported()
    {
        Assert.That(SpecValidator.CheckProcess(new Process { Cwd = "/" }).Single().Path, Is.EqualTo("$.args"));
    }
}
