using ClearOci.Native;

namespace ClearOci.Tests;

public class MountOptionsTests
{
    // mount(2) flag values from <linux/mount.h>, written out so the test does not share the code's constants.
    private const ulong RDONLY = 1, NOSUID = 2, NODEV = 4, NOEXEC = 8, REMOUNT = 32, NOATIME = 1024,
        REC = 16384, UNBINDABLE = 1 << 17, PRIVATE = 1 << 18, SLAVE = 1 << 19, SHARED = 1 << 20, RELATIME = 1 << 21,
        STRICTATIME = 1 << 24;

    private static ParsedMountOptions P(params string[] o) => MountOptions.Parse(o);

    [Test]
    public void NothingGivesNothing()
    {
        Assert.That(MountOptions.Parse(null), Is.EqualTo(new ParsedMountOptions(0, 0, 0, "", false, false, false)));
        Assert.That(P(), Is.EqualTo(new ParsedMountOptions(0, 0, 0, "", false, false, false)));
    }

    [Test]
    public void ReadOnlyAndReadWriteToggleTheLastOneWins()
    {
        Assert.That((P("ro").Flags, P("ro").ClearFlags), Is.EqualTo((RDONLY, 0UL)));
        Assert.That((P("rw").Flags, P("rw").ClearFlags), Is.EqualTo((0UL, RDONLY)));
        Assert.That((P("ro", "rw").Flags, P("ro", "rw").ClearFlags), Is.EqualTo((0UL, RDONLY)));
        Assert.That((P("rw", "ro").Flags, P("rw", "ro").ClearFlags), Is.EqualTo((RDONLY, 0UL)));
        Assert.That((P("noatime", "atime").Flags, P("noatime", "atime").ClearFlags), Is.EqualTo((0UL, NOATIME)));
        Assert.That(P("ro", "rw", "ro").Flags, Is.EqualTo(RDONLY));
    }

    [Test]
    public void BindAndRbind()
    {
        var bind = P("bind");
        Assert.That((bind.Bind, bind.Recursive, bind.Flags, bind.Data), Is.EqualTo((true, false, 0UL, "")));
        var rbind = P("rbind", "ro");
        Assert.That((rbind.Bind, rbind.Recursive, rbind.Flags, rbind.Data), Is.EqualTo((true, true, RDONLY, "")));
    }

    [TestCase("private", PRIVATE)]
    [TestCase("rprivate", PRIVATE | REC)]
    [TestCase("shared", SHARED)]
    [TestCase("rshared", SHARED | REC)]
    [TestCase("slave", SLAVE)]
    [TestCase("rslave", SLAVE | REC)]
    [TestCase("unbindable", UNBINDABLE)]
    [TestCase("runbindable", UNBINDABLE | REC)]
    public void Propagation(string option, ulong expected)
    {
        var p = P("rbind", option);
        Assert.That(p.Propagation, Is.EqualTo(expected));
        Assert.That((p.Flags, p.Data), Is.EqualTo((0UL, "")), "propagation is neither a mount flag nor data");
    }

    [Test]
    public void LastPropagationWins() => Assert.That(P("rshared", "rslave").Propagation, Is.EqualTo(SLAVE | REC));

    [Test]
    public void RuncDefaultDevTmpfs()
    {
        var p = P("nosuid", "strictatime", "mode=755", "size=65536k");
        Assert.That(p.Flags, Is.EqualTo(NOSUID | STRICTATIME));
        Assert.That(p.Data, Is.EqualTo("mode=755,size=65536k"));
        Assert.That((p.Bind, p.Propagation), Is.EqualTo((false, 0UL)));
    }

    [Test]
    public void RuncDefaultDevpts()
    {
        var p = P("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
        Assert.That(p.Flags, Is.EqualTo(NOSUID | NOEXEC));
        Assert.That(p.Data, Is.EqualTo("newinstance,ptmxmode=0666,mode=0620,gid=5"));
    }

    [Test]
    public void SysfsReadOnly() =>
        Assert.That(P("nosuid", "noexec", "nodev", "ro").Flags, Is.EqualTo(NOSUID | NOEXEC | NODEV | RDONLY));

    [Test]
    public void RemountAndRelatime() =>
        Assert.That(P("remount", "relatime", "ro").Flags, Is.EqualTo(REMOUNT | RELATIME | RDONLY));

    [Test]
    public void UnknownOptionsAreFilesystemDataInOrder() =>
        Assert.That(P("uid=1000", "nodev", "x-gvfs-hide", "gid=1000").Data, Is.EqualTo("uid=1000,x-gvfs-hide,gid=1000"));

    [Test]
    public void TmpCopyUpIsRecognised()
    {
        var p = P("tmpcopyup", "mode=1777");
        Assert.That((p.TmpCopyUp, p.Data), Is.EqualTo((true, "mode=1777")));
    }
}

public class WaitStatusTests
{
    [TestCase(0x0000, 0, TestName = "ToExitCode(exit 0)")]
    [TestCase(0x0300, 3, TestName = "ToExitCode(exit 3)")]
    [TestCase(0xff00, 255, TestName = "ToExitCode(exit 255)")]
    [TestCase(9, 137, TestName = "ToExitCode(killed by 9)")]
    [TestCase(15, 143, TestName = "ToExitCode(killed by 15)")]
    [TestCase(0x80 | 11, 139, TestName = "ToExitCode(SIGSEGV with core dump)")]
    public void ToExitCode(int status, int expected) => Assert.That(WaitStatus.ToExitCode(status), Is.EqualTo(expected));

    [Test]
    public void Classification()
    {
        Assert.That((WaitStatus.Exited(0x0300), WaitStatus.Signaled(0x0300), WaitStatus.ExitCode(0x0300)), Is.EqualTo((true, false, 3)));
        Assert.That((WaitStatus.Exited(9), WaitStatus.Signaled(9), WaitStatus.TermSignal(9)), Is.EqualTo((false, true, 9)));
        Assert.That(WaitStatus.Signaled(0x137f), Is.False, "a stopped child is not a signal death");
    }
}
