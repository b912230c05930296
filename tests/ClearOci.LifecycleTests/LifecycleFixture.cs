using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>A container made by <see cref="LifecycleFixture.CreateAsync"/>: the create's result and the pid file's pid.</summary>
public sealed record Created(string Id, CliResult Result, int Pid, string StdoutPath, string StderrPath)
{
    public string Stdout => ReadShared(StdoutPath);
    public string Stderr => ReadShared(StderrPath);

    public static string ReadShared(string path)
    {
        if (!File.Exists(path)) return "";
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var r = new StreamReader(f);
        return r.ReadToEnd();
    }
}

/// <summary>
/// Per test: a private temp directory holding a fresh busybox bundle and a private --root (and a
/// private runc --root); unique ids. TearDown force-deletes every id the test used, reaps what the
/// test process adopted, asserts the roots are empty, and kills (then fails on) any QEMU,
/// virtiofsd or clearoci process whose command line still names the temp directory.
/// </summary>
public abstract class LifecycleFixture
{
    private readonly Stopwatch _clock = new();
    private readonly List<string> _ids = [];
    private readonly List<string> _runcIds = [];
    private readonly List<int> _pids = [];
    private int _next;
    private string _unique = "";

    protected string WorkDir { get; private set; } = "";
    protected string Bundle => Path.Combine(WorkDir, "bundle");
    protected string Rootfs => Path.Combine(Bundle, "rootfs");
    protected string ConfigPath => Path.Combine(Bundle, "config.json");
    protected string StateRoot => Path.Combine(WorkDir, "root");
    protected string RuncRoot => Path.Combine(WorkDir, "runc");

    protected static readonly TimeSpan StatusDeadline = TimeSpan.FromSeconds(30);

    [SetUp]
    public async Task CreateWorkDir()
    {
        _clock.Restart();
        _ids.Clear(); _runcIds.Clear(); _pids.Clear();
        _next = 0;
        if (!File.Exists(Cli.Binary)) Assert.Fail($"{Cli.Binary} does not exist: run `make build` (or set CLEAROCI_BIN)");
        // Short: the VM's unix sockets live under ROOT/ID and sun_path holds 108 bytes.
        _unique = Guid.NewGuid().ToString("N")[..8];
        WorkDir = Path.Combine("/tmp", $"colt-{_unique}");
        Directory.CreateDirectory(WorkDir);
        await MakeBundleAsync(Bundle);
    }

    /// <summary>A fresh busybox bundle at <paramref name="bundle"/>.</summary>
    protected static async Task MakeBundleAsync(string bundle)
    {
        var psi = new ProcessStartInfo("bash", [Repo.BundleScript, bundle]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.That(p.ExitCode, Is.EqualTo(0), $"make-busybox-bundle.sh failed: {await err}");
    }

    /// <summary>A unique id for this test, remembered for TearDown.</summary>
    protected string NewId(string tag = "c")
    {
        string id = $"{tag}{_next++}-{_unique}";
        _ids.Add(id);
        return id;
    }

    protected string NewRuncId(string tag = "r")
    {
        string id = $"{tag}{_next++}-{_unique}";
        _runcIds.Add(id);
        return id;
    }

    /// <summary>Edits the bundle's config.json (or another bundle's).</summary>
    protected void EditConfig(Action<JsonObject> edit, string? bundle = null)
    {
        string path = Path.Combine(bundle ?? Bundle, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(config);
        File.WriteAllText(path, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    protected void SetArgs(params string[] args) => SetArgsIn(Bundle, args);

    protected void SetArgsIn(string bundle, params string[] args) =>
        EditConfig(c => c["process"]!["args"] = new JsonArray(args.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()), bundle);

    protected Task<CliResult> Oci(params string[] args) => Cli.RunAsync(Cli.Binary, ["--root", StateRoot, .. args]);

    protected Task<CliResult> Runc(params string[] args) => Cli.RunAsync(Cli.Runc, ["--root", RuncRoot, .. args]);

    /// <summary>
    /// `clearoci --root R [globalArgs] create --bundle B --pid-file P ID` with stdin from a file, stdout and stderr to files;
    /// asserts success unless <paramref name="expectSuccess"/> is false.
    /// </summary>
    protected async Task<Created> CreateAsync(string id, string? bundle = null, bool expectSuccess = true,
        IReadOnlyList<string>? globalArgs = null, TimeSpan? timeout = null, bool runc = false, string stdin = "/dev/null")
    {
        string pidFile = Path.Combine(WorkDir, $"{id}.pid");
        string stdout = Path.Combine(WorkDir, $"{id}.out"), stderr = Path.Combine(WorkDir, $"{id}.err");
        var result = await Cli.RunDetachedAsync(runc ? Cli.Runc : Cli.Binary,
            ["--root", runc ? RuncRoot : StateRoot, .. globalArgs ?? [], "create", "--bundle", bundle ?? Bundle, "--pid-file", pidFile, id],
            stdout, stderr, timeout, stdin);
        int pid = 0;
        if (result.ExitCode == 0)
        {
            Assert.That(File.Exists(pidFile), Is.True, $"create succeeded but wrote no pid file: {result}");
            pid = int.Parse(File.ReadAllText(pidFile).Trim());
            lock (_pids) _pids.Add(pid);
        }
        if (expectSuccess) Assert.That(result.ExitCode, Is.EqualTo(0), $"create failed: {result}");
        return new Created(id, result, pid, stdout, stderr);
    }

    /// <summary>`state ID`, parsed; asserts exit 0.</summary>
    protected async Task<JsonObject> StateAsync(string id, bool runc = false)
    {
        var r = runc ? await Runc("state", id) : await Oci("state", id);
        Assert.That(r.ExitCode, Is.EqualTo(0), $"state failed: {r}");
        return JsonNode.Parse(r.Stdout)!.AsObject();
    }

    protected async Task<string> StatusAsync(string id, bool runc = false) => (string)(await StateAsync(id, runc))["status"]!;

    protected Task<string> WaitForStatusAsync(string id, string status, bool runc = false) =>
        Poll.UntilAsync(() => StatusAsync(id, runc), s => s == status, StatusDeadline, $"{id}: status {status}");

    /// <summary>Reads the pid-file process's end, as a subreaper engine does; forgets the pid for TearDown.</summary>
    protected WaitResult ReapExit(Created c, TimeSpan? deadline = null)
    {
        var r = Native.Reap(c.Pid, deadline ?? StatusDeadline);
        lock (_pids) _pids.Remove(c.Pid);
        TestContext.Out.WriteLine($"{c.Id}: pid {c.Pid} {r}");
        return r;
    }

    protected static async Task<string> WaitForOutputAsync(Created c, string text, TimeSpan? deadline = null) =>
        await Poll.UntilAsync(() => c.Stdout, s => s.Contains(text, StringComparison.Ordinal), deadline ?? StatusDeadline,
            $"{c.Id}: \"{text}\" on the container's stdout");

    /// <summary>Asserts a failed verb: exit 1 and a stderr message containing <paramref name="fragment"/>.</summary>
    protected static void AssertFails(CliResult r, string fragment)
    {
        Assert.That(r.ExitCode, Is.EqualTo(1), $"expected exit 1: {r}");
        Assert.That(r.Stderr, Does.Contain(fragment), $"expected \"{fragment}\" in stderr: {r}");
    }

    protected List<Processes.Info> VmProcessesOf(string needle) => Processes.VmProcesses(needle);

    [TearDown]
    public async Task CleanUp()
    {
        var problems = new List<string>();
        try
        {
            foreach (var id in _ids)
            {
                var r = await Cli.RunAsync(Cli.Binary, ["--root", StateRoot, "delete", "--force", id]);
                if (r.ExitCode != 0) problems.Add($"delete --force {id} failed: {r}");
            }
            foreach (var id in _runcIds)
            {
                if (!Directory.Exists(Path.Combine(RuncRoot, id))) continue;
                var r = await Cli.RunAsync(Cli.Runc, ["--root", RuncRoot, "delete", "--force", id]);
                if (r.ExitCode != 0) problems.Add($"runc delete --force {id} failed: {r}");
            }
        }
        catch (Exception e) { problems.Add($"clean-up verb failed: {e.Message}"); }

        // The adopted pid-file processes end after delete --force; reap them.
        foreach (int pid in _pids.ToList())
        {
            try
            {
                if (Native.TryReap(pid, TimeSpan.FromSeconds(20)) is not { } r) problems.Add($"pid-file process {pid} still alive 20 s after delete --force");
            }
            catch (InvalidOperationException) { /* not ours any more */ }
        }

        foreach (var root in new[] { StateRoot, RuncRoot })
            if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
                problems.Add($"{root} is not empty after delete --force: [{string.Join(", ", Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName))}]");

        if (WorkDir.Length > 0)
        {
            // Give processes that are dying a moment (deadline-bounded); what is alive after that leaked.
            var clock = Stopwatch.StartNew();
            var left = Processes.VmProcesses(WorkDir);
            while (left.Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                await Task.Delay(50);
                left = Processes.VmProcesses(WorkDir);
            }
            foreach (var p in left)
            {
                Native.Kill(p.Pid, 9);
                problems.Add($"process left running (killed now): {p}");
            }
            Native.ReapZombies();
            try { if (Directory.Exists(WorkDir)) Directory.Delete(WorkDir, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problems.Add($"cannot remove {WorkDir}: {e.Message}"); }
        }
        // Reap adopted orphans that ended late (killed leftovers, runc's container processes).
        Native.ReapZombies();

        TestContext.Out.WriteLine($"test took {_clock.Elapsed.TotalSeconds:0.0} s");
        if (problems.Count > 0) Assert.Fail($"the test left things behind:\n{string.Join("\n", problems)}");
    }
}
