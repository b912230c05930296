using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>OCI hooks run on the host, in order, with the state JSON on stdin.</summary>
[TestFixture]
public sealed class HookTests : LifecycleFixture
{
    private static readonly string[] Phases = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

    /// <summary>A hook that appends "PHASE STATE-JSON" (one line) to <paramref name="log"/>; optionally fails.</summary>
    private static JsonObject Hook(string phase, string log, int exitCode = 0) => new()
    {
        ["path"] = "/bin/sh",
        ["args"] = new JsonArray("sh", "-c",
            $"printf '%s %s\\n' {phase} \"$(cat | tr -d '\\n')\" >> '{log}'" + (exitCode != 0 ? $"; echo {phase}-failed-on-purpose >&2; exit {exitCode}" : "")),
        ["env"] = new JsonArray("PATH=/usr/sbin:/usr/bin:/sbin:/bin"),
        ["timeout"] = 30,
    };

    private static List<(string Phase, JsonObject State)> ReadLog(string log) =>
        File.Exists(log)
            ? File.ReadAllLines(log).Where(l => l.Length > 0).Select(l =>
            {
                int space = l.IndexOf(' ');
                return (l[..space], JsonNode.Parse(l[(space + 1)..])!.AsObject());
            }).ToList()
            : [];

    [Test]
    public async Task Hooks_RunInOrderWithTheStateOnStdin()
    {
        string log = Path.Combine(WorkDir, "hooks.log");
        SetArgs("sh", "-c", "echo hello");
        EditConfig(c =>
        {
            var hooks = new JsonObject();
            foreach (var phase in Phases) hooks[phase] = new JsonArray(Hook(phase, log));
            c["hooks"] = hooks;
        });
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That(ReadLog(log).Select(e => e.Phase), Is.EqualTo(Phases[..3]), "create runs prestart, createRuntime, createContainer");

        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReadLog(log).Select(e => e.Phase), Is.EqualTo(Phases[..5]), "start runs startContainer, then poststart");
        Assert.That(ReapExit(c).ShellCode, Is.EqualTo(0));
        Assert.That(c.Stdout, Is.EqualTo("hello\n"));
        await WaitForStatusAsync(id, "stopped");
        Assert.That(ReadLog(log), Has.Count.EqualTo(5), "no poststop before delete");

        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
        var entries = ReadLog(log);
        Assert.That(entries.Select(e => e.Phase), Is.EqualTo(Phases), "delete runs poststop");

        var expected = new Dictionary<string, string>
        {
            ["prestart"] = "creating", ["createRuntime"] = "creating", ["createContainer"] = "creating",
            ["startContainer"] = "created", ["poststart"] = "running", ["poststop"] = "stopped",
        };
        Assert.Multiple(() =>
        {
            foreach (var (phase, state) in entries)
            {
                Assert.That((string?)state["id"], Is.EqualTo(id), $"{phase}: id");
                Assert.That((string?)state["bundle"], Is.EqualTo(Bundle), $"{phase}: bundle");
                Assert.That((string?)state["status"], Is.EqualTo(expected[phase]), $"{phase}: status");
                Assert.That((string?)state["ociVersion"], Is.Not.Null.And.Not.Empty, $"{phase}: ociVersion");
                if (phase != "poststop") Assert.That((int?)state["pid"], Is.EqualTo(c.Pid), $"{phase}: pid is the pid file's");
            }
        });
    }

    [Test]
    public async Task FailingCreateRuntimeHook_FailsCreateAndLeavesNothing()
    {
        string log = Path.Combine(WorkDir, "hooks.log");
        SetArgs("sleep", "1000");
        EditConfig(c => c["hooks"] = new JsonObject
        {
            ["prestart"] = new JsonArray(Hook("prestart", log)),
            ["createRuntime"] = new JsonArray(Hook("createRuntime", log, exitCode: 7)),
            ["startContainer"] = new JsonArray(Hook("startContainer", log)),
        });
        string id = NewId();
        var c = await CreateAsync(id, expectSuccess: false);

        Assert.That(c.Result.ExitCode, Is.EqualTo(1), c.Result.ToString());
        Assert.That(c.Result.Stderr, Does.Contain("createRuntime"), "the message names the hook's phase");
        Assert.That(c.Result.Stderr, Does.Contain("/bin/sh"), "the message names the hook's path");
        Assert.That(c.Result.Stderr, Does.Contain("7"), "the message gives the hook's status");
        TestContext.Out.WriteLine($"create's message: {c.Result.Stderr.Trim()}");
        Assert.That(ReadLog(log).Select(e => e.Phase), Is.EqualTo(new[] { "prestart", "createRuntime" }), "nothing runs after the failing hook");
        Assert.That(File.Exists(Path.Combine(WorkDir, $"{id}.pid")), Is.False, "no pid file");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "no state directory");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no QEMU/virtiofsd/supervisor left once create has returned");
        AssertFails(await Oci("state", id), "does not exist");
    }
}
