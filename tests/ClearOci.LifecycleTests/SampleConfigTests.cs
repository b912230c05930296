using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// The config.json files docker, podman and ctr really generated (spec-fixtures/configs/valid, copies
/// of the shared samples), run through `clearoci run` with every field they set, adapted only where
/// they name things this machine does not have: the root is the fixture's busybox, the process is
/// `true`, hooks are dropped (they name the engine's binaries), so are binds of host paths that do
/// not exist here, and the network namespace path (podman's netns file) is dropped.
/// </summary>
[TestFixture]
public sealed class SampleConfigTests : LifecycleFixture
{
    private static readonly string[] Samples = ["docker-config.json", "podman-config.json", "ctr-config.json"];

    private static string SamplePath(string name) => Path.Combine(Repo.Root, "spec-fixtures", "configs", "valid", name);

    [TestCaseSource(nameof(Samples))]
    public async Task Run_EngineSample_RunsTrueWithExitZero(string sample)
    {
        var config = JsonNode.Parse(File.ReadAllText(SamplePath(sample)))!.AsObject();
        config["root"]!["path"] = Rootfs;
        config["process"]!["args"] = new JsonArray("true");
        config["process"]!["terminal"] = false;
        config.Remove("hooks");
        var mounts = config["mounts"]!.AsArray();
        var dropped = mounts.Where(m => (string?)m!["type"] == "bind" && !Path.Exists((string?)m!["source"])).ToList();
        foreach (var m in dropped) mounts.Remove(m);
        foreach (var ns in config["linux"]!["namespaces"]!.AsArray())
            if ((string?)ns!["type"] == "network") ns.AsObject().Remove("path");
        File.WriteAllText(ConfigPath, config.ToJsonString());
        TestContext.Out.WriteLine($"{sample}: dropped binds {string.Join(", ", dropped.Select(m => (string?)m!["destination"]))}");

        var r = await Cli.RunAsync(Cli.Binary, ["--root", StateRoot, "run", "--bundle", Bundle, NewId()], Cli.CreateTimeout);

        Assert.That(r.ExitCode, Is.EqualTo(0), $"{sample}: {r}");
        Assert.That(r.Stderr, Is.Empty, $"{sample}: nothing reported");
    }
}
