using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>create/start/state/kill/delete/pause/resume through the real CLI, one VM per container.</summary>
[TestFixture]
public sealed class LifecycleTests : LifecycleFixture
{
    private static int Ppid(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
    }

    [Test]
    public async Task FullLifecycle_CreateStartKillDelete()
    {
        SetArgs("sh", "-c", "echo started; while true; do sleep 1; done");
        string id = NewId();
        var c = await CreateAsync(id);

        var state = await StateAsync(id);
        Assert.Multiple(() =>
        {
            Assert.That((string?)state["status"], Is.EqualTo("created"));
            Assert.That((int?)state["pid"], Is.EqualTo(c.Pid), "state's pid is the pid file's");
            Assert.That((string?)state["id"], Is.EqualTo(id));
            Assert.That((string?)state["bundle"], Is.EqualTo(Bundle));
            Assert.That(Ppid(c.Pid), Is.EqualTo(Environment.ProcessId), "the detached pid-file process is adopted by the subreaper");
        });

        var start = await Oci("start", id);
        Assert.That(start.ExitCode, Is.EqualTo(0), start.ToString());
        state = await StateAsync(id);
        Assert.That((string?)state["status"], Is.EqualTo("running"));
        Assert.That((int?)state["pid"], Is.EqualTo(c.Pid));
        await WaitForOutputAsync(c, "started");

        var kill = await Oci("kill", id, "KILL");
        Assert.That(kill.ExitCode, Is.EqualTo(0), kill.ToString());
        state = await Poll.UntilAsync(() => StateAsync(id), s => (string?)s["status"] == "stopped", StatusDeadline, "stopped after KILL");
        // OciState omits a zero pid by design (runc prints "pid": 0); either way there is no process.
        Assert.That((int?)state["pid"] ?? 0, Is.EqualTo(0), "a stopped container has no pid");

        var exit = ReapExit(c);
        Assert.That(exit.Exited, Is.True, $"the pid-file process exits (not killed): {exit}");
        Assert.That(exit.Code, Is.EqualTo(137), "128 + SIGKILL");

        var delete = await Oci("delete", id);
        Assert.That(delete.ExitCode, Is.EqualTo(0), delete.ToString());
        AssertFails(await Oci("state", id), "does not exist");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "state directory removed");
    }

    [Test]
    public async Task ExitCodeAndStdio_ReachTheCreateCaller()
    {
        SetArgs("sh", "-c", "cat; echo out-line; echo err-line >&2; exit 3");
        string input = Path.Combine(WorkDir, "stdin.txt");
        File.WriteAllText(input, "from-stdin\n");
        string id = NewId();
        var c = await CreateAsync(id, stdin: input);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));

        var exit = ReapExit(c);
        Assert.That(exit, Is.EqualTo(new WaitResult(true, 3, 0)), "waitpid on the pid-file pid gives the container's exit status");
        // The supervisor drains the output before it exits: all of it is there now.
        Assert.That(c.Stdout, Is.EqualTo("from-stdin\nout-line\n"), "create's stdin reaches the container (then EOF); its stdout is create's stdout");
        Assert.That(c.Stderr, Does.Contain("err-line\n"), "the container's stderr is create's stderr");
        Assert.That(c.Stdout, Does.Not.Contain("err-line"));

        Assert.That(await StatusAsync(id), Is.EqualTo("stopped"));
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
    }

    [TestCase("USR1", "USR1")]
    [TestCase("10", "USR1")]
    [TestCase(null, "TERM")]
    public async Task Signals_AreForwardedToTheContainerProcess(string? signalArg, string trapped)
    {
        SetArgs("sh", "-c", $"trap \"echo got-{trapped}; exit 0\" {trapped}; echo ready; while true; do sleep 0.2; done");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(c, "ready"); // the trap is set

        var kill = signalArg is null ? await Oci("kill", id) : await Oci("kill", id, signalArg);
        Assert.That(kill.ExitCode, Is.EqualTo(0), kill.ToString());
        await WaitForOutputAsync(c, $"got-{trapped}");

        var exit = ReapExit(c);
        Assert.That(exit, Is.EqualTo(new WaitResult(true, 0, 0)), "the trap's exit 0");
        Assert.That(await StatusAsync(id), Is.EqualTo("stopped"));
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task IllegalTransitions_FailWithExit1()
    {
        SetArgs("sh", "-c", "echo ready; while true; do sleep 0.2; done");
        string id = NewId();
        var c = await CreateAsync(id);
        AssertFails(await Oci("resume", id), "not paused");
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        AssertFails(await Oci("start", id), "cannot start an already running container");
        AssertFails(await Oci("resume", id), "not paused");
        await WaitForOutputAsync(c, "ready");

        Assert.That((await Oci("kill", id, "SIGKILL")).ExitCode, Is.EqualTo(0));
        await WaitForStatusAsync(id, "stopped");
        Assert.That(ReapExit(c).ShellCode, Is.EqualTo(137));

        AssertFails(await Oci("kill", id), "not running");
        AssertFails(await Oci("kill", id, "9"), "not running");
        AssertFails(await Oci("kill", "--all", id, "KILL"), "not running");
        AssertFails(await Oci("start", id), "cannot start a container that has stopped");
        AssertFails(await Oci("pause", id), "not running");
        AssertFails(await Oci("resume", id), "not paused");
        Assert.That((await Oci("ps", "--format", "json", id)).Stdout.Trim(), Is.EqualTo("[]"), "ps of a stopped container");
        Assert.That(await StatusAsync(id), Is.EqualTo("stopped"), "the failed verbs changed nothing");
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task Delete_RunningNeedsForce_ForceIsIdempotent()
    {
        SetArgs("sleep", "1000");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        Assert.That(VmProcessesOf(id), Is.Not.Empty, "the VM's processes name the id");

        AssertFails(await Oci("delete", id), "not stopped");
        Assert.That(await StatusAsync(id), Is.EqualTo("running"), "a refused delete changes nothing");

        var ps = await Oci("ps", "--format", "json", id);
        Assert.That(ps.ExitCode, Is.EqualTo(0), ps.ToString());
        var pids = JsonNode.Parse(ps.Stdout)!.AsArray().Select(n => (int)n!).ToList();
        Assert.That(pids, Does.Contain(c.Pid), "ps lists the pid-file process");

        var force = await Oci("delete", "--force", id);
        Assert.That(force.ExitCode, Is.EqualTo(0), force.ToString());
        // delete returns once the supervisor is gone; the VM went with it.
        Assert.That(VmProcessesOf(id), Is.Empty, "no QEMU/virtiofsd/supervisor naming the id after delete --force");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no process naming the test's directory");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "state directory removed");
        Assert.That(ReapExit(c, TimeSpan.FromSeconds(5)).ShellCode, Is.EqualTo(137), "delete --force kills the container");

        Assert.That((await Oci("delete", "--force", id)).ExitCode, Is.EqualTo(0), "delete --force of a missing id succeeds");
        AssertFails(await Oci("delete", id), "does not exist");
        AssertFails(await Oci("state", id), "does not exist");
    }

    [Test]
    public async Task PauseResume_FreezesTheContainersProcesses()
    {
        SetArgs("sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.2; done");
        string counter = Path.Combine(Rootfs, "tmp", "count");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));

        int Read() => int.TryParse(Created.ReadShared(counter).Trim(), out int n) ? n : -1;
        int first = await Poll.UntilAsync(Read, n => n >= 2, StatusDeadline, "the counter (through virtio-fs) counts");
        await Poll.UntilAsync(Read, n => n > first, StatusDeadline, "the counter advances");

        var pause = await Oci("pause", id);
        Assert.That(pause.ExitCode, Is.EqualTo(0), pause.ToString());
        Assert.That(await StatusAsync(id), Is.EqualTo("paused"));
        AssertFails(await Oci("pause", id), "already paused");
        AssertFails(await Oci("start", id), "paused");

        // The observation period is the point: 2 s of reads, every one the same.
        string frozen = Created.ReadShared(counter);
        var window = Stopwatch.StartNew();
        int reads = 0;
        while (window.Elapsed < TimeSpan.FromSeconds(2))
        {
            Assert.That(Created.ReadShared(counter), Is.EqualTo(frozen), $"the counter moved while paused, after {window.Elapsed.TotalSeconds:0.00} s");
            reads++;
            await Task.Delay(50);
        }
        TestContext.Out.WriteLine($"paused counter \"{frozen.Trim()}\" unchanged over {reads} reads in 2 s");

        var resume = await Oci("resume", id);
        Assert.That(resume.ExitCode, Is.EqualTo(0), resume.ToString());
        Assert.That(await StatusAsync(id), Is.EqualTo("running"));
        int pausedAt = int.TryParse(frozen.Trim(), out int f) ? f : first;
        await Poll.UntilAsync(Read, n => n > pausedAt, StatusDeadline, "the counter advances after resume");

        // SIGKILL reaches a paused container too (the VM is resumed for it).
        Assert.That((await Oci("pause", id)).ExitCode, Is.EqualTo(0));
        Assert.That((await Oci("kill", id, "KILL")).ExitCode, Is.EqualTo(0));
        await WaitForStatusAsync(id, "stopped");
        Assert.That(ReapExit(c).ShellCode, Is.EqualTo(137));
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
    }
}
