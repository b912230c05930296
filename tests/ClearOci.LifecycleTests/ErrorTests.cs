using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClearOci.LifecycleTests;

/// <summary>Errors: exit 1, a message on stderr, a line in --log, and nothing left behind.</summary>
[TestFixture]
public sealed partial class ErrorTests : LifecycleFixture
{
    private void AssertNothingCreated(string id)
    {
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "no state directory");
        Assert.That(File.Exists(Path.Combine(WorkDir, $"{id}.pid")), Is.False, "no pid file");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no VM process");
    }

    /// <summary>runc reads an id that begins with '-' as a flag and refuses it; clearoci refuses it too, before any VM, and delete --force of one is no silent success.</summary>
    [Test]
    public async Task AnIdBeginningWithADash_IsRefusedBeforeAnyVm_AsRunc()
    {
        string id = $"-x{Guid.NewGuid():N}"[..10];
        var create = await Oci("create", "--bundle", Bundle, "--", id);
        AssertFails(create, "must not begin with '-'");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "no state directory");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no VM process");
        var delete = await Oci("delete", "--force", "--", id);
        AssertFails(delete, "must not begin with '-'");
        var runc = await Runc("create", "--bundle", Bundle, id);
        Assert.That(runc.ExitCode, Is.Not.EqualTo(0), $"runc refuses it too: {runc}");
        Assert.That(Directory.Exists(Path.Combine(RuncRoot, id)), Is.False, "runc made nothing");
    }

    [Test]
    public async Task BrokenConfig_FailsNamingConfigJson()
    {
        File.WriteAllText(ConfigPath, "{ \"ociVersion\": \"1.0.2\", \"process\": ");
        string id = NewId();
        var c = await CreateAsync(id, expectSuccess: false);
        AssertFails(c.Result, "config.json");
        AssertNothingCreated(id);
    }

    [Test]
    public async Task WrongTypeInConfig_FailsNamingConfigJsonAndTheField()
    {
        EditConfig(c => c["process"]!["args"] = 42);
        string id = NewId();
        var c = await CreateAsync(id, expectSuccess: false);
        AssertFails(c.Result, "config.json");
        Assert.That(c.Result.Stderr, Does.Contain("args"), "names the field");
        AssertNothingCreated(id);
    }

    [Test]
    public async Task JsonLog_GetsOneErrorLine()
    {
        File.WriteAllText(ConfigPath, "not json at all");
        string log = Path.Combine(WorkDir, "log.json");
        string id = NewId();
        var c = await CreateAsync(id, expectSuccess: false, globalArgs: ["--log", log, "--log-format", "json"]);
        AssertFails(c.Result, "config.json");

        var lines = File.ReadAllLines(log);
        Assert.That(lines, Has.Length.EqualTo(1), $"one line in {log}");
        var entry = JsonNode.Parse(lines[0])!.AsObject();
        Assert.That((string?)entry["level"], Is.EqualTo("error"));
        string msg = (string)entry["msg"]!;
        Assert.That(msg, Does.Contain("config.json"));
        Assert.That(c.Result.Stderr, Does.Contain(msg), "the log's msg is the message on stderr");
        Assert.That(DateTimeOffset.TryParse((string?)entry["time"], out _), Is.True, $"time parses: {entry["time"]}");
        AssertNothingCreated(id);

        // Another failing verb appends a second line.
        AssertFails(await Oci("--log", log, "--log-format", "json", "state", "missing-" + id), "does not exist");
        lines = File.ReadAllLines(log);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That((string?)JsonNode.Parse(lines[1])!["msg"], Does.Contain("does not exist"));
    }

    [GeneratedRegex("""^time="[^"]+" level=error msg="(.*)"$""")]
    private static partial Regex TextLine();

    [Test]
    public async Task TextLog_GetsLogrusStyleLine()
    {
        File.WriteAllText(ConfigPath, "[]");
        string log = Path.Combine(WorkDir, "log.txt");
        string id = NewId();
        var c = await CreateAsync(id, expectSuccess: false, globalArgs: ["--log", log, "--log-format", "text"]);
        AssertFails(c.Result, "config.json");
        var lines = File.ReadAllLines(log);
        Assert.That(lines, Has.Length.EqualTo(1));
        var m = TextLine().Match(lines[0]);
        Assert.That(m.Success, Is.True, $"time=\"...\" level=error msg=\"...\": {lines[0]}");
        Assert.That(m.Groups[1].Value, Does.Contain("config.json"));
        AssertNothingCreated(id);

        // text is the default format
        string log2 = Path.Combine(WorkDir, "log2.txt");
        AssertFails(await Oci("--log", log2, "state", "missing-" + id), "does not exist");
        Assert.That(TextLine().IsMatch(File.ReadAllLines(log2).Single()), Is.True);
    }

    [TestCase("a/b")]
    [TestCase("..")]
    [TestCase("a b")]
    public async Task InvalidId_IsRefusedBeforeTouchingTheDisk(string badId)
    {
        string root = Path.Combine(WorkDir, "fresh-root");
        string pidFile = Path.Combine(WorkDir, "bad.pid");
        string outFile = Path.Combine(WorkDir, "bad.out");
        var r = await Cli.RunDetachedAsync(Cli.Binary, ["--root", root, "create", "--bundle", Bundle, "--pid-file", pidFile, badId],
            outFile, Path.Combine(WorkDir, "bad.err"));
        AssertFails(r, "invalid container id");
        Assert.That(Directory.Exists(root), Is.False, "the root was not even created");
        Assert.That(File.Exists(pidFile), Is.False, "no pid file");
        Assert.That(Directory.Exists(Path.Combine(WorkDir, "a")), Is.False);
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no VM process");

        foreach (var verb in new[] { "state", "start", "kill", "delete", "pause", "resume" })
            AssertFails(await Cli.RunAsync(Cli.Binary, ["--root", root, verb, badId]), "invalid container id");
        Assert.That(Directory.Exists(root), Is.False);
    }

    [Test]
    public async Task ExistingId_IsRefusedAndTheFirstContainerIsUntouched()
    {
        SetArgs("sleep", "1000");
        string id = NewId();
        var first = await CreateAsync(id);
        var second = await Cli.RunDetachedAsync(Cli.Binary,
            ["--root", StateRoot, "create", "--bundle", Bundle, "--pid-file", Path.Combine(WorkDir, "second.pid"), id],
            Path.Combine(WorkDir, "second.out"), Path.Combine(WorkDir, "second.err"));
        AssertFails(second, "exists");
        Assert.That(File.Exists(Path.Combine(WorkDir, "second.pid")), Is.False, "no pid file for the refused create");

        var state = await StateAsync(id);
        Assert.That((string?)state["status"], Is.EqualTo("created"));
        Assert.That((int?)state["pid"], Is.EqualTo(first.Pid));
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0), "the first container still starts");
        Assert.That(await StatusAsync(id), Is.EqualTo("running"));
        Assert.That((await Oci("delete", "--force", id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(first).ShellCode, Is.EqualTo(137));
    }

    [Test]
    public async Task MissingBundleOrBadSignal_FailCleanly()
    {
        string id = NewId();
        var c = await Cli.RunDetachedAsync(Cli.Binary,
            ["--root", StateRoot, "create", "--bundle", Path.Combine(WorkDir, "no-such-bundle"), id],
            Path.Combine(WorkDir, "m.out"), Path.Combine(WorkDir, "m.err"));
        AssertFails(c, "config.json");
        AssertNothingCreated(id);

        SetArgs("sleep", "1000");
        var created = await CreateAsync(id);
        AssertFails(await Oci("kill", id, "NOSUCHSIG"), "signal");
        AssertFails(await Oci("kill", id, "65"), "signal"); // 0 is legal, as in runc: KillZero_SaysWhetherTheContainerRuns_AsRunc
        Assert.That(await StatusAsync(id), Is.EqualTo("created"));
        Assert.That((await Oci("delete", "--force", id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(created).ShellCode, Is.EqualTo(137));
    }
}
