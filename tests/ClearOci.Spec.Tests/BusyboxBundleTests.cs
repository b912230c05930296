using System.Diagnostics;

namespace ClearOci.Spec.Tests;

/// <summary>spec-fixtures/make-busybox-bundle.sh builds a bundle that the loader accepts.</summary>
public class BusyboxBundleTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => _dir = Directory.CreateTempSubdirectory("clearoci-busybox-").FullName;

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private static void MakeBundle(string dir)
    {
        string script = Path.Combine(Fixtures.RepositoryRoot, "spec-fixtures", "make-busybox-bundle.sh");
        var start = new ProcessStartInfo("bash", [script, dir]) { RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        string stderr = process.StandardError.ReadToEnd();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(2)), Is.True, "script timed out");
        Assert.That(process.ExitCode, Is.Zero, stderr);
    }

    private static string[] Applets()
    {
        var start = new ProcessStartInfo("/bin/busybox", ["--list"]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        string[] names = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        return names.Where(n => n != "busybox").ToArray();
    }

    [Test]
    public void MakeBusyboxBundle_RunTwice_ProducesALoadableBundle()
    {
        if (!File.Exists("/bin/busybox")) Assert.Ignore("busybox-static is not installed");
        string bundle = Path.Combine(_dir, "bundle");

        MakeBundle(bundle);
        MakeBundle(bundle);
        var (spec, rootfs) = ConfigLoader.Load(bundle);

        Assert.Multiple(() =>
        {
            Assert.That(rootfs, Is.EqualTo(Path.Combine(bundle, "rootfs")));
            Assert.That(spec.Process!.Args, Is.EqualTo(new[] { "sh" }));
            Assert.That(spec.Process.Terminal, Is.False);
            Assert.That(spec.Root!.Readonly, Is.False);
            Assert.That(spec.Linux!.Namespaces!.Select(n => n.Type), Is.EqualTo(new[] { "pid", "network", "ipc", "uts", "mount" }));
            Assert.That(spec.Mounts!.Select(m => m.Destination), Is.EqualTo(new[] { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys" }));
            Assert.That(new FileInfo(Path.Combine(rootfs, "bin", "sh")).LinkTarget, Is.EqualTo("busybox"));
            Assert.That(Directory.GetFiles(Path.Combine(rootfs, "bin")).Count(f => new FileInfo(f).LinkTarget == "busybox"),
                Is.EqualTo(Applets().Length));
            Assert.That(File.ReadAllText(Path.Combine(rootfs, "etc", "passwd")), Does.Contain("app:x:1000:1000:"));
            Assert.That(File.ReadAllText(Path.Combine(rootfs, "etc", "group")), Does.Contain("app:x:1000:"));
            foreach (string dir in new[] { "proc", "sys", "dev", "tmp", "run" })
                Assert.That(Directory.EnumerateFileSystemEntries(Path.Combine(rootfs, dir)), Is.Empty, dir);
        });
    }
}
