using ClearOci.Spec;

namespace ClearOci.Tests;

/// <summary>linux.resources.devices as cgroup v1 devices.allow/devices.deny lines, in runc's order.</summary>
public class DeviceCgroupRulesTests
{
    private static OciSpec Spec(List<LinuxDeviceCgroup>? rules, List<LinuxDevice>? devices = null) =>
        new() { Linux = new Linux { Resources = new LinuxResources { Devices = rules }, Devices = devices } };

    [Test]
    public void NoRules_NothingIsRestricted()
    {
        Assert.That(DeviceCgroupRules.For(new OciSpec()), Is.Empty);
        Assert.That(DeviceCgroupRules.For(Spec([])), Is.Empty);
    }

    [Test]
    public void DockersDefault_DenyAllThenTheDefaultsThenTheGivenNodes()
    {
        var lines = DeviceCgroupRules.For(Spec(
            [new() { Allow = false, Access = "rwm" }, new() { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "rw" }],
            [new() { Path = "/dev/fuse2", Type = "c", Major = 10, Minor = 230 }, new() { Path = "/dev/fifo", Type = "p" }]));
        Assert.That(lines, Is.EqualTo(new[]
        {
            ("devices.deny", "a"),
            ("devices.allow", "c 10:229 rw"),
            ("devices.allow", "c *:* m"), ("devices.allow", "b *:* m"),
            ("devices.allow", "c 5:1 rwm"), ("devices.allow", "c 136:* rwm"), ("devices.allow", "c 5:2 rwm"), ("devices.allow", "c 10:200 rwm"),
            ("devices.allow", "c 1:3 rwm"), ("devices.allow", "c 1:5 rwm"), ("devices.allow", "c 1:7 rwm"), ("devices.allow", "c 5:0 rwm"),
            ("devices.allow", "c 1:9 rwm"), ("devices.allow", "c 1:8 rwm"),
            ("devices.allow", "c 10:230 rwm"), // the node linux.devices gives; a fifo needs no rule
        }));
    }

    [Test]
    public void Wildcards_AndDefaults()
    {
        var lines = DeviceCgroupRules.For(Spec([new() { Allow = true, Type = "b", Major = 8 }, new() { Allow = false, Type = "a", Major = 1, Minor = 1, Access = "r" }]));
        Assert.That(lines[0], Is.EqualTo(("devices.allow", "b 8:* rwm")), "no minor: any; no access: rwm");
        Assert.That(lines[1], Is.EqualTo(("devices.deny", "a 1:1 r")));
    }

    [TestCase("x", null, "type \"x\" is not a, c or b")]
    [TestCase("c", "rx", "access \"rx\" is not made of r, w and m")]
    public void BadRules_AreClearErrors(string type, string? access, string message)
    {
        var e = Assert.Throws<ClearOciException>(() => DeviceCgroupRules.For(Spec([new() { Allow = true, Type = type, Major = 1, Minor = 3, Access = access }])));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        Assert.That(e.Message, Does.Contain(message));
    }
}
