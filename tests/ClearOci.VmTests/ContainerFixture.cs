using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClearOci.VmTests;

/// <summary>
/// Per test: a unique container id, a private directory holding a fresh busybox bundle
/// (spec-fixtures/make-busybox-bundle.sh) and a private --root. TearDown checks that the run left
/// nothing behind: no state directory, no process mentioning the id or the directory.
/// </summary>
public abstract class ContainerFixture
{
    private bool _timedOut;
    private readonly Stopwatch _clock = new();

    protected string Id { get; set; } = "";
    protected string WorkDir { get; private set; } = "";
    protected string Bundle => Path.Combine(WorkDir, "bundle");
    /// <summary>The --root; WorkDir/root unless a test chooses another place inside WorkDir.</summary>
    protected string StateRoot { get; set; } = "";
    protected string ConfigPath => Path.Combine(Bundle, "config.json");

    [SetUp]
    public async Task CreateBundle()
    {
        _clock.Restart();
        _timedOut = false;
        Cli.RequireBinary();
        // Short paths: the VM's unix sockets live under ROOT/ID, and sun_path holds 108 bytes.
        string name = Regex.Replace(TestContext.CurrentContext.Test.Name.ToLowerInvariant(), "[^a-z0-9]+", "-").Trim('-');
        string unique = Guid.NewGuid().ToString("N")[..8];
        Id = $"vmt-{(name.Length > 24 ? name[..24].TrimEnd('-') : name)}-{unique}";
        WorkDir = Path.Combine(Path.GetTempPath(), $"clearoci-vmt-{unique}");
        StateRoot = Path.Combine(WorkDir, "root");
        Directory.CreateDirectory(WorkDir);
        var psi = new ProcessStartInfo("bash", [Repo.BundleScript, Bundle]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.That(p.ExitCode, Is.EqualTo(0), $"make-busybox-bundle.sh failed: {await err}");
        Assert.That(File.Exists(ConfigPath), Is.True);
    }

    [TearDown]
    public void CheckNothingIsLeftBehind()
    {
        var problems = CollectLeftovers();
        try { if (WorkDir.Length > 0 && Directory.Exists(WorkDir)) Directory.Delete(WorkDir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problems.Add($"cannot remove {WorkDir}: {e.Message}"); }

        TestContext.Out.WriteLine($"test took {_clock.Elapsed.TotalSeconds:0.0} s (bundle included)");
        if (problems.Count == 0) return;
        string report = string.Join("\n", problems);
        if (_timedOut)
            TestContext.Out.WriteLine($"after the timeout kill (the test has failed already):\n{report}");
        else
            Assert.Fail($"the run left things behind:\n{report}");
    }

    /// <summary>
    /// For a test whose subject is the clean-up itself: the same checks as TearDown, now. What is
    /// found is removed (processes killed by pid, the state directory deleted), then the test fails.
    /// </summary>
    protected void AssertNothingLeftBehind()
    {
        var problems = CollectLeftovers();
        if (problems.Count > 0) Assert.Fail($"the run left things behind:\n{string.Join("\n", problems)}");
    }

    /// <summary>The state directory, and live processes mentioning the id or the work directory; all removed.</summary>
    private List<string> CollectLeftovers()
    {
        var problems = new List<string>();
        if (Id.Length == 0) return problems;
        string stateDir = Path.Combine(StateRoot, Id);
        if (Directory.Exists(stateDir))
        {
            problems.Add($"state directory {stateDir} still exists: [{string.Join(", ", Directory.GetFileSystemEntries(stateDir).Select(Path.GetFileName))}]");
            try { Directory.Delete(stateDir, recursive: true); } catch (IOException) { }
        }
        // Give processes that are already dying a moment; anything alive after that is a leak.
        var left = Processes.Matching(Id, WorkDir);
        for (int i = 0; i < 10 && left.Count > 0; i++)
        {
            Thread.Sleep(100);
            left = Processes.Matching(Id, WorkDir);
        }
        foreach (var p in left)
        {
            Cli.Kill(p.Pid, 9);
            problems.Add($"process left running (killed now): {p}");
        }
        return problems;
    }

    /// <summary>Rewrites config.json's process (args, and env/cwd when given).</summary>
    protected void SetProcess(string[] args, string[]? env = null, string? cwd = null) => EditConfig(config =>
    {
        var process = config["process"]!.AsObject();
        process["args"] = new JsonArray(args.Select(a => (JsonNode)JsonValue.Create(a)).ToArray());
        if (env != null) process["env"] = new JsonArray(env.Select(a => (JsonNode)JsonValue.Create(a)).ToArray());
        if (cwd != null) process["cwd"] = cwd;
    });

    protected void EditConfig(Action<JsonObject> edit)
    {
        var config = JsonNode.Parse(File.ReadAllText(ConfigPath))!.AsObject();
        edit(config);
        File.WriteAllText(ConfigPath, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>`clearoci --root ROOT run --bundle BUNDLE ID`.</summary>
    private protected Task<CliResult> RunContainer(byte[]? stdin = null, Action<int>? started = null, Func<int, CaptureStream, Task>? whileRunning = null) =>
        Cli.RunAsync(["--root", StateRoot, "run", "--bundle", Bundle, Id], stdin, started: started, timedOut: () => _timedOut = true, whileRunning: whileRunning);

    /// <summary>Runs <paramref name="args"/> in the container and returns the result.</summary>
    private protected Task<CliResult> Run(params string[] args)
    {
        SetProcess(args);
        return RunContainer();
    }
}
