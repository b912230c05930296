using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// `run` in the foreground is an ordinary container for every other verb while it runs, as with
/// runc: state, list, exec, kill and delete --force from another shell; the same sequence is
/// driven through runc side by side.
/// </summary>
[TestFixture]
public sealed class ForegroundRunTests : LifecycleFixture
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(240);

    /// <summary>The container writes /ready into its rootfs once its trap is set; the host sees it through the share (or runc's rootfs).</summary>
    private string ReadyFile => Path.Combine(Rootfs, "ready");

    [SetUp]
    public void LongRunningProcess() =>
        SetArgs("sh", "-c", "trap 'exit 42' TERM; touch /ready; while true; do sleep 0.1; done");

    private Task<CliResult> RunInForeground(string id, bool runc = false, params string[] extra) =>
        Cli.RunAsync(runc ? Cli.Runc : Cli.Binary, ["--root", runc ? RuncRoot : StateRoot, "run", .. extra, "--bundle", Bundle, id], RunTimeout);

    private Task WaitReady(string id, Task<CliResult> run) =>
        Poll.UntilAsync(() => File.Exists(ReadyFile) || run.IsCompleted, ready => ready, Cli.CreateTimeout, $"{id}: the container's process is up");

    private static async Task<CliResult> Ended(Task<CliResult> run, string what)
    {
        if (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) != run) Assert.Fail($"{what}: `run` did not end within 60 s");
        return await run;
    }

    /// <summary>state, list, exec and kill from another shell; returns (state's pid, list's pid, exec's exit, run's exit).</summary>
    private async Task<(string Id, string Status, int StatePid, int ListPid, int ExecExit, int RunExit)> Drive(bool runc)
    {
        if (File.Exists(ReadyFile)) File.Delete(ReadyFile);
        string id = runc ? NewRuncId() : NewId();
        Task<CliResult> Verb(params string[] args) => runc ? Runc(args) : Oci(args);
        var run = RunInForeground(id, runc);
        await WaitReady(id, run);
        Assert.That(run.IsCompleted, Is.False, $"run ended early: {(run.IsCompleted ? run.Result : null)}");

        var state = JsonNode.Parse((await Verb("state", id)).Stdout)!.AsObject();
        var list = JsonNode.Parse((await Verb("list", "--format", "json")).Stdout)!.AsArray();
        var mine = list.Select(e => e!.AsObject()).SingleOrDefault(e => (string?)e["id"] == id);
        Assert.That(mine, Is.Not.Null, $"list shows {id}: {list.ToJsonString()}");
        var exec = await Verb("exec", id, "true");
        var kill = await Verb("kill", id, "KILL");
        Assert.That(kill.ExitCode, Is.EqualTo(0), kill.ToString());
        var ended = await Ended(run, $"{id} after kill KILL");
        return (id, (string)state["status"]!, (int?)state["pid"] ?? 0, (int?)mine!["pid"] ?? 0, exec.ExitCode, ended.ExitCode);
    }

    [Test]
    public async Task WhileRunRuns_StateListExecKill_WorkFromAnotherShell_SameAsRunc()
    {
        var ours = await Drive(runc: false);
        Assert.Multiple(() =>
        {
            Assert.That(ours.Status, Is.EqualTo("running"), "state while run runs");
            Assert.That(ours.StatePid, Is.GreaterThan(0), "state has the supervisor's pid");
            Assert.That(ours.ListPid, Is.EqualTo(ours.StatePid), "list shows the same pid");
            Assert.That(ours.ExecExit, Is.EqualTo(0), "exec true");
            Assert.That(ours.RunExit, Is.EqualTo(137), "run exits 128+9 after kill KILL");
        });
        Assert.That(Directory.Exists(Path.Combine(StateRoot, ours.Id)), Is.False, "run deleted the container after it ended");
        await Poll.UntilAsync(() => VmProcessesOf(Path.Combine(StateRoot, ours.Id)), l => l.Count == 0, TimeSpan.FromSeconds(10), "no QEMU or virtiofsd left");
        var runc = await Drive(runc: true);
        Assert.That((ours.Status, ours.ExecExit, ours.RunExit), Is.EqualTo((runc.Status, runc.ExecExit, runc.RunExit)),
            $"clearoci {ours} against runc {runc}");
        Assert.That(runc.ListPid, Is.EqualTo(runc.StatePid), "runc: list and state agree");
    }

    [Test]
    public async Task DeleteForce_FromAnotherShell_EndsTheVmAndRun()
    {
        string id = NewId();
        var run = RunInForeground(id);
        await WaitReady(id, run);
        int supervisor = (int)(await StateAsync(id))["pid"]!;
        Assert.That(VmProcessesOf(Path.Combine(StateRoot, id)), Is.Not.Empty, "QEMU and virtiofsd run while the container does");
        var delete = await Oci("delete", "--force", id);
        Assert.That(delete.ExitCode, Is.EqualTo(0), delete.ToString());
        var ended = await Ended(run, "run after delete --force");
        Assert.That(ended.ExitCode, Is.EqualTo(137), $"the container was SIGKILLed: {ended}");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "the state directory is gone");
        Assert.That(Directory.Exists($"/proc/{supervisor}"), Is.False, "the supervisor is gone");
        await Poll.UntilAsync(() => VmProcessesOf(Path.Combine(StateRoot, id)), l => l.Count == 0, TimeSpan.FromSeconds(10), "no QEMU or virtiofsd of the container");
        var state = await Oci("state", id);
        AssertFails(state, "does not exist");
    }

    [Test]
    public async Task ATermForwardedByRun_ReachesTheContainer_AndRunExitsWithItsStatus()
    {
        string id = NewId();
        var run = RunInForeground(id);
        await WaitReady(id, run);
        int runPid = Processes.Matching($"run --bundle {Bundle} {id}").Select(p => p.Pid).Single();
        Native.Kill(runPid, 15);
        var ended = await Ended(run, "run after SIGTERM");
        Assert.That(ended.ExitCode, Is.EqualTo(42), $"the container's trap ran: {ended}");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "run deleted the container");
    }

    [Test]
    public async Task PidFileAndKeep_InTheForeground_AsRunc()
    {
        SetArgs("sh", "-c", "exit 3");
        string id = NewId(), runcId = NewRuncId();
        string pidFile = Path.Combine(WorkDir, "run.pid"), runcPidFile = Path.Combine(WorkDir, "runc.pid");
        var ours = await RunInForeground(id, false, "--keep", "--pid-file", pidFile);
        var theirs = await RunInForeground(runcId, true, "--keep", "--pid-file", runcPidFile);
        Assert.That(ours.ExitCode, Is.EqualTo(3), ours.ToString());
        Assert.That(ours.ExitCode, Is.EqualTo(theirs.ExitCode), $"runc: {theirs}");
        Assert.That(int.Parse(File.ReadAllText(pidFile).Trim()), Is.GreaterThan(0), "run wrote the pid file");
        Assert.That(File.Exists(runcPidFile), Is.True, "runc writes it too");
        Assert.That(await StatusAsync(id), Is.EqualTo("stopped"), "--keep: the stopped container stays");
        Assert.That(await StatusAsync(runcId, runc: true), Is.EqualTo("stopped"), "runc --keep");
        var delete = await Oci("delete", id);
        Assert.That(delete.ExitCode, Is.EqualTo(0), delete.ToString());
    }

    [Test]
    public async Task BadPidFileDirectory_FailsBeforeAnyVm_LeavingNothing()
    {
        string id = NewId();
        var r = await RunInForeground(id, false, "--pid-file", "/nonexistent-dir/x.pid");
        AssertFails(r, "/nonexistent-dir");
        Assert.That(r.Stderr, Does.Not.Contain("Exception"), r.ToString());
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False);
        var runc = await RunInForeground(NewRuncId(), true, "--pid-file", "/nonexistent-dir/x.pid");
        Assert.That(runc.ExitCode, Is.Not.EqualTo(0), $"runc refuses it too: {runc}");
        string createId = NewId();
        var create = await Oci("create", "--bundle", Bundle, "--pid-file", "/nonexistent-dir/x.pid", createId);
        AssertFails(create, "/nonexistent-dir");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, createId)), Is.False);
        Assert.That(VmProcessesOf(StateRoot), Is.Empty, "no VM was started");
    }
}
