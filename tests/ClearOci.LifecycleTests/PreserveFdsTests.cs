namespace ClearOci.LifecycleTests;

/// <summary>--preserve-fds: the caller's fds 3.. reach the container process under the same numbers (relayed both ways).</summary>
[NonParallelizable]
public class PreserveFdsTests : LifecycleFixture
{
    [Test]
    public async Task PreservedFds_AreReadableAndWritableInTheContainer()
    {
        SetArgs("sh", "-c", "echo via-fd3 >&3; read line <&4; echo got:$line");
        string id = NewId();
        string fd3 = Path.Combine(WorkDir, "fd3.out"), fd4 = Path.Combine(WorkDir, "fd4.in"), stdout = Path.Combine(WorkDir, "stdout");
        File.WriteAllText(fd4, "from-fd4\n");
        var create = await Cli.RunAsync("/bin/bash", ["-c",
            $"exec {Cli.Binary} --root {StateRoot} create --bundle {Bundle} --preserve-fds 2 {id} 3>{fd3} 4<{fd4} </dev/null >{stdout} 2>&1"]);
        Assert.That(create.ExitCode, Is.EqualTo(0), create.ToString() + File.ReadAllText(stdout));
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForStatusAsync(id, "stopped");
        Assert.That(File.ReadAllText(fd3), Is.EqualTo("via-fd3\n"), "written by the container to its fd 3");
        Assert.That(Created.ReadShared(stdout), Is.EqualTo("got:from-fd4\n"), "read by the container from its fd 4");
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task PreserveFds_NamingAClosedFd_FailsBeforeAnythingStarts()
    {
        string id = NewId();
        var r = await Oci("create", "--bundle", Bundle, "--preserve-fds", "40", id);
        AssertFails(r, "is not open");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False);
    }
}
