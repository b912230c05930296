using ClearOci.Shim;

namespace ClearOci.Tests;

/// <summary>The shim's flags, grouping, socket names and clearoci argv (pure).</summary>
public class ShimNamingTests
{
    [Test]
    public void Flags_AsContainerdWritesThemForStart_AreParsed()
    {
        var f = ShimFlags.Parse(["-namespace", "default", "-address", "/run/c/containerd.sock", "-publish-binary", "/usr/bin/containerd", "-id", "t1", "-debug", "start"]);
        Assert.That((f.Namespace, f.Address, f.PublishBinary, f.Id, f.Debug, f.Action), Is.EqualTo(("default", "/run/c/containerd.sock", "/usr/bin/containerd", "t1", true, "start")));
    }

    [Test]
    public void Flags_EqualsFormDoubleDashAndBundle_AreParsed()
    {
        var f = ShimFlags.Parse(["--namespace=k8s.io", "-id=abc", "-bundle", "/b", "-debug=false", "delete"]);
        Assert.That((f.Namespace, f.Id, f.Bundle, f.Debug, f.Action), Is.EqualTo(("k8s.io", "abc", "/b", false, "delete")));
        Assert.That(ShimFlags.Parse(["-v"]).Version, Is.True);
    }

    [TestCase(new[] { "-nope", "x", "start" }, "flag provided but not defined: -nope")]
    [TestCase(new[] { "-id" }, "flag needs an argument: -id")]
    [TestCase(new[] { "start", "extra" }, "unexpected arguments: start extra")]
    public void Flags_BadInput_IsAClearError(string[] args, string message) =>
        Assert.That(Assert.Throws<ArgumentException>(() => ShimFlags.Parse(args))!.Message, Is.EqualTo(message));

    [Test]
    public void DaemonArgs_RoundTripThroughParse()
    {
        var f = ShimFlags.Parse(["-namespace", "ns", "-address", "/a", "-publish-binary", "/p", "-id", "i", "-debug", "start"]);
        var d = ShimFlags.Parse(f.DaemonArgs("/run/containerd/s/x"));
        Assert.That(d, Is.EqualTo(f with { Socket = "/run/containerd/s/x", Action = "serve" }));
    }

    [Test]
    public void GroupKey_PrefersTheSandboxIdThenTheRuncGroupThenTheId()
    {
        Assert.That(ShimNaming.GroupKey(new Dictionary<string, string> { [ShimNaming.SandboxIdAnnotation] = "pod1", [ShimNaming.GroupAnnotation] = "g" }, "c1"), Is.EqualTo("pod1"));
        Assert.That(ShimNaming.GroupKey(new Dictionary<string, string> { [ShimNaming.GroupAnnotation] = "g" }, "c1"), Is.EqualTo("g"));
        Assert.That(ShimNaming.GroupKey(new Dictionary<string, string>(), "c1"), Is.EqualTo("c1"));
    }

    [Test]
    public void SocketPath_IsSha256OfAddressNamespaceGroup_UnderRunContainerdS()
    {
        // sha256("/run/containerd/containerd.sock/default/t1"), computed independently with sha256sum
        string path = ShimNaming.SocketPath("/run/containerd/containerd.sock", "default", "t1");
        Assert.That(path, Is.EqualTo("/run/containerd/s/" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("/run/containerd/containerd.sock/default/t1"u8))));
        Assert.That(path.Length, Is.LessThanOrEqualTo(106));
        Assert.That(ShimNaming.SocketPath("/other.sock", "default", "t1"), Is.Not.EqualTo(path));
        Assert.That(ShimNaming.SocketAddress(path), Does.StartWith("unix:///run/containerd/s/"));
    }

    [Test]
    public void ClearOciRoot_SitsBesideContainerdsTaskDirs()
    {
        Assert.That(ShimNaming.ClearOciRoot("/var/st/io.containerd.runtime.v2.task/k8s.io/abc", "k8s.io"), Is.EqualTo("/var/st/clearoci/k8s.io"));
        Assert.That(ShimNaming.ClearOciRoot("/somewhere/else", "default"), Is.EqualTo("/run/clearoci/containerd/default"));
    }

    [Test]
    public void Annotations_AreReadFromConfigJson()
    {
        var a = ShimNaming.Annotations("""{"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.sandbox-id":"p","n":"1"}}""");
        Assert.That(a, Is.EqualTo(new Dictionary<string, string> { ["io.kubernetes.cri.sandbox-id"] = "p", ["n"] = "1" }));
        Assert.That(ShimNaming.Annotations("""{"ociVersion":"1.0.2"}"""), Is.Empty);
    }

    [Test]
    public void ClearOciGlobalArgs_AreRuncShaped_DebugLast()
    {
        Assert.That(ShimNaming.ClearOciGlobalArgs("/r", "/b/log.json", debug: false),
            Is.EqualTo(new[] { "--root", "/r", "--log", "/b/log.json", "--log-format", "json" }));
        Assert.That(ShimNaming.ClearOciGlobalArgs("/r", "/b/log.json", debug: true),
            Is.EqualTo(new[] { "--root", "/r", "--log", "/b/log.json", "--log-format", "json", "--debug" }));
    }

    [Test]
    public async Task ChildRunner_FeedsStdin_CapturesStdoutStderrAndExitCode()
    {
        var runner = new ChildRunner("/bin/sh", ClearOci.Native.Reaper.WaitAsync);
        var r = await runner.RunAsync(["sh", "-c", "cat; echo oops >&2; exit 3"], "event bytes"u8.ToArray());
        Assert.That((r.ExitCode, r.Stdout, r.Stderr, r.Ok), Is.EqualTo((3, "event bytes", "oops\n", false)));
    }
}
