using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// Host paths bound into the container (docker -v, the resolv.conf/hosts/hostname binds): shared
/// into the guest through the container's virtio-fs share, with their options, and never left
/// mounted on the host.
/// </summary>
[TestFixture]
public sealed class BindMountTests : LifecycleFixture
{
    private void AddBind(string source, string destination, params string[] options) => EditConfig(c =>
    {
        var mounts = c["mounts"] as JsonArray ?? new JsonArray();
        mounts.Add(new JsonObject
        {
            ["destination"] = destination, ["type"] = "bind", ["source"] = source,
            ["options"] = new JsonArray(options.Select(o => (JsonNode?)JsonValue.Create(o)).ToArray()),
        });
        c["mounts"] = mounts;
    });

    /// <summary>Processes (any mount namespace) whose mount table names this test's directory.</summary>
    private List<int> MountHolders()
    {
        string needle = Path.GetFileName(WorkDir);
        var holders = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try { if (File.ReadAllText(Path.Combine(dir, "mountinfo")).Contains(needle, StringComparison.Ordinal)) holders.Add(pid); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return holders;
    }

    private async Task<Created> StartSleeperAsync(string id)
    {
        SetArgs("sh", "-c", "echo ready; exec sleep 1000");
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(c, "ready");
        return c;
    }

    /// <summary>A running container with the host directory WORKDIR/vol bound at /vol.</summary>
    private async Task<(Created Container, string Volume)> StartWithVolumeAsync()
    {
        string vol = Path.Combine(WorkDir, "vol");
        Directory.CreateDirectory(vol);
        AddBind(vol, "/vol", "rbind");
        return (await StartSleeperAsync(NewId()), vol);
    }

    [Test]
    public async Task RwDirectory_IsReadableAndWritableFromBothSidesAtOnce()
    {
        string vol = Path.Combine(WorkDir, "vol");
        Directory.CreateDirectory(vol);
        File.WriteAllText(Path.Combine(vol, "host.txt"), "from-host\n");
        AddBind(vol, "/vol", "rbind", "rw");
        var c = await StartSleeperAsync(NewId());

        var read = await Oci("exec", c.Id, "cat", "/vol/host.txt");
        Assert.That(read.Stdout, Is.EqualTo("from-host\n"), read.ToString());

        var write = await Oci("exec", c.Id, "sh", "-c", "echo from-guest > /vol/guest.txt; mkdir /vol/d");
        Assert.That(write.ExitCode, Is.EqualTo(0), write.ToString());
        // No polling: the guest's write is on the host as soon as the exec returned.
        Assert.That(File.ReadAllText(Path.Combine(vol, "guest.txt")), Is.EqualTo("from-guest\n"));
        Assert.That(Directory.Exists(Path.Combine(vol, "d")), Is.True);

        // The guest has just read host.txt (its size may be cached): a new file from the host is seen
        // at once; a longer content within virtio-fs's 1 s attribute timeout (cache=auto), not
        // always by the very next read (KNOWN-GAPS: runc sees it at once).
        File.WriteAllText(Path.Combine(vol, "host.txt"), "changed on the host, longer\n");
        File.WriteAllText(Path.Combine(vol, "new.txt"), "new\n");
        var fresh = await Oci("exec", c.Id, "cat", "/vol/new.txt");
        Assert.That(fresh.Stdout, Is.EqualTo("new\n"), fresh.ToString());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reread = await Poll.UntilAsync(() => Oci("exec", c.Id, "cat", "/vol/host.txt"), r => r.Stdout == "changed on the host, longer\n",
            TimeSpan.FromSeconds(5), "the host's longer content in the guest");
        TestContext.Out.WriteLine($"the longer content was seen {clock.ElapsedMilliseconds} ms after the first re-read began");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "within the 1 s attribute timeout (and the execs' own time)");
    }

    [Test]
    public async Task ChangeOnTheHost_IsSeenByARunningReader()
    {
        // Measures coherence without exec's latency: the container polls the file itself.
        string vol = Path.Combine(WorkDir, "vol");
        Directory.CreateDirectory(vol);
        File.WriteAllText(Path.Combine(vol, "flag"), "0\n");
        AddBind(vol, "/vol", "rbind");
        SetArgs("sh", "-c", "echo ready; while ! grep -q 1 /vol/flag; do usleep 20000; done; echo seen; echo back > /vol/reply");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(c, "ready");
        var clock = Stopwatch.StartNew();
        // Longer than before: a stale cached size would hide the change.
        File.WriteAllText(Path.Combine(vol, "flag"), "now 1, longer than before\n");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(vol, "reply")) ? File.ReadAllText(Path.Combine(vol, "reply")) : "",
            s => s == "back\n", TimeSpan.FromSeconds(20), "the guest saw the host's change and answered");
        TestContext.Out.WriteLine($"host write -> guest saw it -> host saw the reply: {clock.ElapsedMilliseconds} ms");
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 0, 0)));
    }

    [Test]
    public async Task ReadOnlyBind_RefusesWrites()
    {
        string vol = Path.Combine(WorkDir, "ro");
        Directory.CreateDirectory(vol);
        File.WriteAllText(Path.Combine(vol, "f"), "original\n");
        AddBind(vol, "/ro", "rbind", "ro", "nosuid", "nodev");
        var c = await StartSleeperAsync(NewId());

        var write = await Oci("exec", c.Id, "sh", "-c", "echo changed > /ro/f");
        Assert.That(write.ExitCode, Is.Not.EqualTo(0), write.ToString());
        Assert.That(write.Stderr, Does.Contain("Read-only file system"), write.ToString());
        var create = await Oci("exec", c.Id, "touch", "/ro/new");
        Assert.That(create.ExitCode, Is.Not.EqualTo(0), create.ToString());
        var read = await Oci("exec", c.Id, "cat", "/ro/f");
        Assert.That(read.Stdout, Is.EqualTo("original\n"), "still readable");
        Assert.That(File.ReadAllText(Path.Combine(vol, "f")), Is.EqualTo("original\n"));
        Assert.That(File.Exists(Path.Combine(vol, "new")), Is.False);
    }

    [Test]
    public async Task SingleFileBinds_ShowTheHostFiles()
    {
        // As docker binds /var/lib/docker/containers/ID/{resolv.conf,hosts,hostname}.
        string resolv = Path.Combine(WorkDir, "resolv.conf"), hosts = Path.Combine(WorkDir, "hosts");
        File.WriteAllText(resolv, "nameserver 192.0.2.53\nsearch example.test\n");
        File.WriteAllText(hosts, "127.0.0.1 localhost\n192.0.2.7 peer\n");
        AddBind(resolv, "/etc/resolv.conf", "rbind", "rprivate");
        AddBind(hosts, "/etc/hosts", "rbind", "ro");
        SetArgs("sh", "-c", "cat /etc/resolv.conf /etc/hosts; echo x >> /etc/hosts || echo hosts-is-ro");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 0, 0)), c.Stderr);
        Assert.That(c.Stdout, Is.EqualTo("nameserver 192.0.2.53\nsearch example.test\n127.0.0.1 localhost\n192.0.2.7 peer\nhosts-is-ro\n"), c.Stderr);
    }

    [Test]
    public async Task MissingSource_CreateFailsClearlyAndLeavesNothing()
    {
        string missing = Path.Combine(WorkDir, "no-such-dir");
        AddBind(missing, "/data", "rbind");
        var c = await CreateAsync(NewId(), expectSuccess: false);
        AssertFails(c.Result, $"bind mount source {missing} does not exist");
        Assert.That(Directory.EnumerateFileSystemEntries(StateRoot), Is.Empty, "no state directory");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no VM process");
        Assert.That(MountHolders(), Is.Empty, "no mount");
    }

    [Test]
    public async Task DeleteForceOfARunningContainer_LeavesNoMount()
    {
        var (c, vol) = await StartWithVolumeAsync();
        var holders = MountHolders();
        Assert.That(holders, Is.Not.Empty, "while it runs, the share's virtiofsd holds the binds (else this test proves nothing)");
        Assert.That(holders, Does.Not.Contain(Environment.ProcessId), "the host's own mount table never shows them");

        Assert.That((await Oci("delete", "--force", c.Id)).ExitCode, Is.EqualTo(0));
        ReapExit(c);
        await Poll.UntilAsync(() => { Native.ReapZombies(); return MountHolders(); }, l => l.Count == 0, TimeSpan.FromSeconds(20),
            "no process holds a mount of the test's paths after delete --force");
        Assert.That(Directory.Exists(vol), Is.True, "the source itself is untouched");
    }

    [Test]
    public async Task SupervisorKilled_LeavesNoMount()
    {
        var (c, _) = await StartWithVolumeAsync();
        Assert.That(MountHolders(), Is.Not.Empty);
        // virtiofsd's socket path (on QEMU's command line) is gone once the VM is up: nothing for a SIGKILL to leave.
        var qemu = Processes.VmProcesses(c.Id).Single(p => p.CommandLine.Contains("qemu-system", StringComparison.Ordinal));
        var sockets = System.Text.RegularExpressions.Regex.Matches(qemu.CommandLine, @"socket,id=fs\d+,path=([^,\s]+)").Select(m => m.Groups[1].Value).ToList();
        Assert.That(sockets, Is.Not.Empty, qemu.ToString());
        Assert.That(sockets, Has.All.Not.Contain("/"), "named in the VM's runtime directory, where QEMU runs");
        Assert.That(sockets.Select(s => Path.Combine(StateRoot, c.Id, s)).Where(File.Exists), Is.Empty, "virtiofsd's socket is unlinked after boot");
        Assert.That(Native.Kill(c.Pid, 9), Is.True);
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(false, 0, 9)));
        await Poll.UntilAsync(() => { Native.ReapZombies(); return MountHolders(); }, l => l.Count == 0, TimeSpan.FromSeconds(30),
            "the binds die with the VM after its supervisor was SIGKILLed");
        Assert.That((await Oci("delete", c.Id)).ExitCode, Is.EqualTo(0));
    }
}
