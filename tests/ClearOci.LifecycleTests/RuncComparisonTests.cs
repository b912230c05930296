using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// The same bundle through runc (private --root) and clearoci, step by step: the state JSON's
/// keys and statuses, and the exit codes of the illegal verbs. Messages are logged, not compared.
/// </summary>
[TestFixture]
public sealed class RuncComparisonTests : LifecycleFixture
{
    private static readonly string[] OciKeys = ["ociVersion", "id", "status", "pid", "bundle"];

    private sealed class Transcript(string name)
    {
        public List<string> Statuses { get; } = [];
        public List<(string Step, int Exit, string Message)> Errors { get; } = [];
        public List<HashSet<string>> KeySets { get; } = [];
        public WaitResult? Exit { get; set; }
        public override string ToString() => name;
    }

    private async Task<Transcript> Drive(bool runc)
    {
        var t = new Transcript(runc ? "runc" : "clearoci");
        string id = runc ? NewRuncId() : NewId();
        Task<CliResult> Verb(params string[] args) => runc ? Runc(args) : Oci(args);
        async Task Snapshot()
        {
            var r = await Verb("state", id);
            Assert.That(r.ExitCode, Is.EqualTo(0), $"{t}: {r}");
            var s = JsonNode.Parse(r.Stdout)!.AsObject();
            t.Statuses.Add((string)s["status"]!);
            t.KeySets.Add(s.Select(kv => kv.Key).ToHashSet());
            Assert.That((string?)s["id"], Is.EqualTo(id), $"{t}: id");
            Assert.That((string?)s["bundle"], Is.EqualTo(Bundle), $"{t}: bundle");
            Assert.That((string?)s["annotations"]?["org.clearoci.test"], Is.EqualTo("side-by-side"), $"{t}: annotations");
        }
        async Task Error(string step, params string[] args)
        {
            var r = await Verb(args);
            t.Errors.Add((step, r.ExitCode, r.Stderr.Trim()));
        }

        var c = await CreateAsync(id, runc: runc);
        await Snapshot();                                    // created
        // A created container can be paused; resume makes it created again.
        Assert.That((await Verb("pause", id)).ExitCode, Is.EqualTo(0), $"{t}: pause of a created container");
        await Snapshot();                                    // paused
        await Error("start of a paused container", "start", id);
        Assert.That((await Verb("resume", id)).ExitCode, Is.EqualTo(0), $"{t}: resume of a paused created container");
        await Snapshot();                                    // created again
        Assert.That((await Verb("start", id)).ExitCode, Is.EqualTo(0), $"{t}: start");
        await Snapshot();                                    // running
        await Error("start twice", "start", id);
        await Error("delete without --force of a running container", "delete", id);
        Assert.That((await Verb("kill", id, "KILL")).ExitCode, Is.EqualTo(0), $"{t}: kill");
        await Poll.UntilAsync(async () => (string?)JsonNode.Parse((await Verb("state", id)).Stdout)!["status"], s => s == "stopped",
            StatusDeadline, $"{t}: stopped");
        await Snapshot();                                    // stopped
        t.Exit = ReapExit(c);
        await Error("start of a stopped container", "start", id);
        await Error("kill of a stopped container", "kill", id, "KILL");
        Assert.That((await Verb("delete", id)).ExitCode, Is.EqualTo(0), $"{t}: delete");
        await Error("state of a missing container", "state", id);
        await Error("delete of a missing container", "delete", id);
        Assert.That((await Verb("delete", "--force", id)).ExitCode, Is.EqualTo(0), $"{t}: delete --force of a missing container");
        return t;
    }

    [Test]
    public async Task SameBundle_SameStatesAndExitCodes()
    {
        if (!File.Exists(Cli.Runc)) Assert.Ignore($"{Cli.Runc} is not installed");
        SetArgs("sh", "-c", "echo hi; while true; do sleep 0.2; done");
        EditConfig(c =>
        {
            c["process"]!["terminal"] = false;
            c["annotations"] = new JsonObject { ["org.clearoci.test"] = "side-by-side" };
        });

        var runc = await Drive(runc: true);
        var ours = await Drive(runc: false);

        TestContext.Out.WriteLine("step | runc | clearoci");
        for (int i = 0; i < runc.Errors.Count; i++)
            TestContext.Out.WriteLine($"{runc.Errors[i].Step} | {runc.Errors[i].Exit}: {runc.Errors[i].Message} | {ours.Errors[i].Exit}: {ours.Errors[i].Message}");
        for (int i = 0; i < runc.KeySets.Count; i++)
            TestContext.Out.WriteLine($"state keys ({runc.Statuses[i]}) | {string.Join(",", runc.KeySets[i].Order())} | {string.Join(",", ours.KeySets[i].Order())}");
        TestContext.Out.WriteLine($"pid-file process after kill KILL | {runc.Exit} | {ours.Exit}");

        Assert.Multiple(() =>
        {
            Assert.That(ours.Statuses, Is.EqualTo(runc.Statuses), "statuses across create/start/kill");
            Assert.That(ours.Statuses, Is.EqualTo(new[] { "created", "paused", "created", "running", "stopped" }));
            for (int i = 0; i < runc.KeySets.Count; i++)
            {
                // runc adds rootfs, created and owner; the OCI keys (and annotations) must match, except
                // that clearoci omits the pid of a stopped container (the spec requires it only for
                // created and running) where runc prints "pid": 0.
                bool stopped = runc.Statuses[i] == "stopped";
                var relevant = OciKeys.Append("annotations").Where(k => !(stopped && k == "pid")).ToHashSet();
                Assert.That(ours.KeySets[i].Intersect(relevant), Is.EquivalentTo(runc.KeySets[i].Intersect(relevant)), $"OCI keys of the {runc.Statuses[i]} state");
                Assert.That(ours.KeySets[i], Is.SupersetOf(relevant.Where(k => k != "annotations")), $"{runc.Statuses[i]}: clearoci has every required key");
            }
            Assert.That(runc.Errors.Select(e => e.Step), Is.EqualTo(ours.Errors.Select(e => e.Step)));
            for (int i = 0; i < runc.Errors.Count; i++)
            {
                Assert.That(ours.Errors[i].Exit, Is.EqualTo(runc.Errors[i].Exit), $"exit code of: {runc.Errors[i].Step}");
                Assert.That(ours.Errors[i].Exit, Is.EqualTo(1), $"clearoci: {runc.Errors[i].Step}");
            }
            Assert.That(ours.Exit!.Value.ShellCode, Is.EqualTo(runc.Exit!.Value.ShellCode), "128+9 for both (runc: by signal; clearoci: by exit)");
        });
    }

    [Test]
    public async Task DeleteWithoutForce_OfACreatedContainer_SucceedsAsInRunc()
    {
        if (!File.Exists(Cli.Runc)) Assert.Ignore($"{Cli.Runc} is not installed");
        SetArgs("sleep", "1000");
        string rid = NewRuncId();
        var r = await CreateAsync(rid, runc: true);
        var runcDelete = await Runc("delete", rid);
        Assert.That(runcDelete.ExitCode, Is.EqualTo(0), $"runc: {runcDelete}");
        Assert.That(Directory.Exists(Path.Combine(RuncRoot, rid)), Is.False, "runc removed its state");
        TestContext.Out.WriteLine($"runc's created process: {ReapExit(r)}");

        string id = NewId();
        var c = await CreateAsync(id);
        var delete = await Oci("delete", id);
        Assert.That(delete.ExitCode, Is.EqualTo(0), $"clearoci, like runc: {delete}");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "state removed");
        Assert.That(ReapExit(c).ShellCode, Is.EqualTo(137), "the never-started container is killed");
        Assert.That(VmProcessesOf(id), Is.Empty, "the VM is gone");
    }

    /// <summary>`kill ID 0` asks whether the container can be signalled: 0 while it runs, an error once stopped, for both.</summary>
    [Test]
    public async Task KillZero_SaysWhetherTheContainerRuns_AsRunc()
    {
        SetArgs("sh", "-c", "sleep 1000");
        foreach (bool runc in new[] { false, true })
        {
            string id = runc ? NewRuncId() : NewId();
            Task<CliResult> Verb(params string[] args) => runc ? Runc(args) : Oci(args);
            await CreateAsync(id, runc: runc);
            Assert.That((await Verb("start", id)).ExitCode, Is.EqualTo(0));
            var alive = await Verb("kill", id, "0");
            Assert.That(alive.ExitCode, Is.EqualTo(0), $"{(runc ? "runc" : "clearoci")}: {alive}");
            Assert.That((await Verb("kill", id, "KILL")).ExitCode, Is.EqualTo(0));
            await WaitForStatusAsync(id, "stopped", runc);
            var gone = await Verb("kill", id, "0");
            Assert.That(gone.ExitCode, Is.Not.EqualTo(0), $"{(runc ? "runc" : "clearoci")}: kill 0 of a stopped container: {gone}");
        }
    }
}
