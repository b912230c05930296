using System.Text.Json.Nodes;

namespace ClearOci.Spec.Tests;

/// <summary>The config.json files docker, podman and ctr really generated (spec-fixtures/configs/valid).</summary>
public class EngineSampleTests
{
    private static IEnumerable<TestCaseData> Samples() => Fixtures.Cases(Fixtures.ValidConfigs, "*.json");

    [Test]
    public void Samples_Directory_HoldsAllEngines()
    {
        string[] names = Directory.GetFiles(Fixtures.ValidConfigs, "*.json").Select(Path.GetFileName).ToArray()!;
        Assert.That(names, Is.SupersetOf(new[] { "ctr-config.json", "docker-config.json", "podman-config.json" }));
    }

    [TestCaseSource(nameof(Samples))]
    public void Parse_EngineSample_SucceedsWithNoUnknownFields(string path)
    {
        OciSpec spec = ConfigLoader.Parse(File.ReadAllText(path), path);

        Assert.That(spec.OciVersion, Does.StartWith("1."));
        Assert.That(spec.Process?.Args, Is.Not.Empty);
        Assert.That(spec.Root?.Path, Is.Not.Empty);
        Assert.That(spec.Linux?.Namespaces, Is.Not.Empty);
        Assert.That(spec.ExtensionData, Is.Null.Or.Empty, "every field the engines write has a home in the model");
    }

    [TestCaseSource(nameof(Samples))]
    public void Serialize_EngineSample_RoundTripsToTheSameText(string path)
    {
        OciSpec first = ConfigLoader.Parse(File.ReadAllText(path), path);
        string once = SpecJson.Serialize(first);
        string twice = SpecJson.Serialize(ConfigLoader.Parse(once, "round-trip"));

        Assert.That(twice, Is.EqualTo(once));
    }

    [TestCaseSource(nameof(Samples))]
    public void Serialize_EngineSample_KeepsEveryValueOfTheOriginal(string path)
    {
        string original = File.ReadAllText(path);
        string written = SpecJson.Serialize(ConfigLoader.Parse(original, path), indented: true);

        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(original), JsonNode.Parse(written)), Is.True,
            $"serialized config differs from {path}:\n{written}");
    }

    [Test]
    public void Parse_DockerSample_ReadsNestedValues()
    {
        string path = Path.Combine(Fixtures.ValidConfigs, "docker-config.json");
        OciSpec spec = ConfigLoader.Parse(File.ReadAllText(path), path);

        Assert.Multiple(() =>
        {
            Assert.That(spec.Process!.User.Uid, Is.EqualTo(65534u));
            Assert.That(spec.Process.Rlimits![0], Is.EqualTo(new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = 2048, Soft = 1024 }));
            Assert.That(spec.Root!.Readonly, Is.True);
            Assert.That(spec.Hooks!.Prestart![0].Path, Is.EqualTo("/proc/26911/exe"));
            Assert.That(spec.Linux!.Resources!.Memory!.Limit, Is.EqualTo(134217728));
            Assert.That(spec.Linux.Resources.Pids!.Limit, Is.EqualTo(50));
            Assert.That(spec.Linux.Sysctl!["net.ipv4.ping_group_range"], Is.EqualTo("0 2147483647"));
            Assert.That(spec.Linux.Seccomp!.Syscalls!.Last(s => s.Names!.Contains("personality")).Args![0].Value, Is.EqualTo(4294967295ul));
            Assert.That(spec.Linux.Seccomp.Syscalls!.Single(s => s.Names!.Contains("clone3")).ErrnoRet, Is.EqualTo(38u));
        });
    }
}
