using System.Text;

namespace ClearOci.EngineTests;

/// <summary>
/// A private dockerd + containerd and podman set-up made by engine-env.sh (own network and mount
/// namespaces, ClearOci registered as runtime "clearoci"), torn down by pid with its directory
/// removed. One per fixture.
/// </summary>
public sealed class EngineEnvironment
{
    public const string Image = "clearoci-test/busybox";
    public static readonly TimeSpan SetupTimeout = TimeSpan.FromMinutes(5);
    /// <summary>A command that boots VMs (run, restart, stop) on a loaded 2-core TCG host.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(240);

    public string Dir { get; }

    private EngineEnvironment(string dir) => Dir = dir;

    public static string Script => Path.Combine(Repo.Root, "tests", "ClearOci.EngineTests", "engine-env.sh");

    public static async Task<EngineEnvironment> StartAsync()
    {
        if (!File.Exists(Cli.Binary)) Assert.Fail($"{Cli.Binary} does not exist: run `make build assets` (or set CLEAROCI_BIN)");
        var env = new EngineEnvironment(Path.Combine("/tmp", $"coe-{Guid.NewGuid().ToString("N")[..8]}"));
        var up = await Cli.RunAsync("bash", [Script, "up", env.Dir, Cli.Binary], SetupTimeout);
        if (up.ExitCode != 0)
        {
            string logs = env.LogTails();
            await env.StopAsync();
            Assert.Fail($"engine-env.sh up failed: {up}\n{logs}");
        }
        return env;
    }

    /// <summary>Stops everything (by pid) and removes the directory; fails if anything is left.</summary>
    public async Task StopAsync()
    {
        var down = await Cli.RunAsync("bash", [Script, "down", Dir], SetupTimeout);
        var problems = new List<string>();
        if (down.ExitCode != 0) problems.Add($"engine-env.sh down failed: {down}");
        if (Directory.Exists(Dir)) problems.Add($"{Dir} still exists after down");
        var left = Processes.Matching(Dir + "/");
        if (left.Count > 0) problems.Add($"processes left: {string.Join("; ", left)}");
        if (problems.Count > 0) Assert.Fail(string.Join("\n", problems));
    }

    public string LogTails()
    {
        var sb = new StringBuilder();
        foreach (var name in new[] { "holder.log", "containerd.log", "dockerd.log" })
        {
            string path = Path.Combine(Dir, name);
            if (!File.Exists(path)) continue;
            var lines = File.ReadAllLines(path);
            sb.AppendLine($"--- {name} (last lines)");
            foreach (var l in lines.Skip(Math.Max(0, lines.Length - 15))) sb.AppendLine(l);
        }
        return sb.ToString();
    }

    public Task<CliResult> Docker(params string[] args) => Cli.RunAsync(Path.Combine(Dir, "docker"), args, CommandTimeout);
    public Task<CliResult> Podman(params string[] args) => Cli.RunAsync(Path.Combine(Dir, "podman"), args, CommandTimeout);
    /// <summary>A command inside the engines' network and mount namespaces (e.g. a wget to a published port).</summary>
    public Task<CliResult> InNamespaces(params string[] args) => Cli.RunAsync(Path.Combine(Dir, "ns"), args, CommandTimeout);

    /// <summary>Runs <paramref name="command"/> on a pty (util-linux `script`), as a user at a terminal would.</summary>
    public static Task<CliResult> OnPty(params string[] command) =>
        Cli.RunAsync("script", ["-qec", string.Join(' ', command.Select(ShellQuote)), "/dev/null"], CommandTimeout);

    public static string ShellQuote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
