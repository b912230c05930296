using ClearOci.Spec;
using ClearOci.Vmm;
using NUnit.Framework;

namespace ClearOci.Tests;

public class HostConfigTests
{
    [Test]
    public void Parse_MapsEveryKeyToItsVariable()
    {
        var values = HostConfig.Parse("c.json", """
            // comments are allowed
            { "memoryMiB": 256, "vcpus": 2, "guestRoot": "initramfs", "accel": "tcg", "assets": "/opt/a", }
            """);
        Assert.That(values, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["CLEAROCI_MEMORY_MIB"] = "256", ["CLEAROCI_VCPUS"] = "2", ["CLEAROCI_GUEST_ROOT"] = "initramfs",
            ["CLEAROCI_ACCEL"] = "tcg", ["CLEAROCI_ASSETS"] = "/opt/a",
        }));
    }

    [TestCase("""{ "memory": 256 }""", "c.json: unknown key \"memory\"")]
    [TestCase("""{ "memoryMiB": "256" }""", "c.json: \"memoryMiB\" must be a whole number")]
    [TestCase("""{ "memoryMiB": 1.5 }""", "c.json: \"memoryMiB\" must be a whole number")]
    [TestCase("""{ "accel": 1 }""", "c.json: \"accel\" must be a string")]
    [TestCase("""[1]""", "c.json: expected a JSON object")]
    [TestCase("{\n \"vcpus\": ", "c.json:2: not valid JSON")]
    public void Parse_BadInput_NamesTheFileAndKey(string text, string expected)
    {
        var e = Assert.Throws<ClearOciException>(() => HostConfig.Parse("c.json", text))!;
        Assert.That(e.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        Assert.That(e.Message, Does.StartWith(expected));
    }

    [Test]
    public void Load_DefaultPathMayBeAbsent_ExplicitPathMustExist()
    {
        var (values, source) = HostConfig.Load(null, _ => false, _ => throw new AssertionException("not read"));
        Assert.That(values, Is.Empty);
        Assert.That(source, Is.Null);
        var e = Assert.Throws<ClearOciException>(() => HostConfig.Load("/nowhere.json", _ => false, _ => ""))!;
        Assert.That(e.Message, Is.EqualTo("CLEAROCI_CONFIG=/nowhere.json: no such file"));
        var (read, from) = HostConfig.Load(null, p => p == HostConfig.DefaultPath, _ => """{"vcpus": 3}""");
        Assert.That(from, Is.EqualTo(HostConfig.DefaultPath));
        Assert.That(read["CLEAROCI_VCPUS"], Is.EqualTo("3"));
    }

    [Test]
    public void Layer_EnvironmentOverridesTheFile_WhichOverridesTheDefaults()
    {
        var file = HostConfig.Parse("c.json", """{ "memoryMiB": 256, "vcpus": 2 }""");
        var env = new Dictionary<string, string> { ["CLEAROCI_VCPUS"] = "4" };
        var get = HostConfig.Layer(v => env.GetValueOrDefault(v), file);
        var settings = VmSettings.From(get);
        Assert.That(settings.MemoryMiB, Is.EqualTo(256));
        Assert.That(settings.Vcpus, Is.EqualTo(4));
        Assert.That(VmSettings.From(_ => null).MemoryMiB, Is.EqualTo(128), "built-in default");
    }
}
