using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClearOci.LifecycleTests;

/// <summary>
/// The container's view from inside, field group by field group: what `id`, /proc/self/status,
/// /proc/self/mountinfo, ulimit, /dev and /proc/sys show. Where runc can run the same bundle, the
/// two outputs must be equal (after removing what only the kernel or the root filesystem's type
/// explains); elsewhere the values are asserted directly. One VM per test.
/// </summary>
[TestFixture]
public sealed partial class GuestSetupTests : LifecycleFixture
{
    /// <summary>`clearoci run` of the bundle with <paramref name="script"/> as `sh -c`; asserts exit 0.</summary>
    private async Task<string> RunOursAsync(string script)
    {
        SetArgs("sh", "-c", script);
        var r = await Cli.RunAsync(Cli.Binary, ["--root", StateRoot, "run", "--bundle", Bundle, NewId()], Cli.CreateTimeout);
        Assert.That(r.ExitCode, Is.EqualTo(0), $"clearoci run: {r}");
        return r.Stdout;
    }

    /// <summary>The same script through runc (same bundle, private --root).</summary>
    private async Task<string> RunRuncAsync(string script)
    {
        if (!File.Exists(Cli.Runc)) Assert.Ignore($"{Cli.Runc} is not installed");
        SetArgs("sh", "-c", script);
        var r = await Runc("run", "--bundle", Bundle, NewRuncId());
        Assert.That(r.ExitCode, Is.EqualTo(0), $"runc run: {r}");
        return r.Stdout;
    }

    private static JsonArray Strings(params string[] items) => new(items.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());

    /// <summary>mountinfo from field 4 on (no mount ids or device numbers), for comparison.</summary>
    private const string MountinfoScript = "cut -d' ' -f4- /proc/self/mountinfo";

    /// <summary>Prints the process's identity, capability sets, limits and /dev, each line comparable with runc.</summary>
    private const string ProcessScript =
        "id; pwd; env | sort; grep -E '^(Cap|NoNewPrivs)' /proc/self/status; umask; " +
        "echo nofile $(ulimit -n) $(ulimit -Hn) nproc $(ulimit -u); echo oom $(cat /proc/self/oom_score_adj); " +
        "for f in /dev/* /dev/pts/ptmx; do stat -c '%n %F %t:%T %a %u:%g %N' $f; done; ";

    /// <summary>
    /// Drops what only the kernel and the root's filesystem explain: the mountinfo lines of / and of
    /// the cgroup tree (v1 on this host), the default process limit (the kernel sizes it from RAM),
    /// and sysfs's superblock options: the container shares the VM's network namespace, so its
    /// sysfs mount shares the guest's (rw) superblock, while runc's new namespace gets a fresh one
    /// (ro). The mount itself is read-only in both (the options before " - " are compared).
    /// </summary>
    private static string WithoutKernelLines(string output) => string.Join('\n', output.Split('\n')
        .Where(l => !Regex.IsMatch(l, @"^/\S* / ") && !Regex.IsMatch(l, @"^\S+ /sys/fs/cgroup"))
        .Select(l => Regex.Replace(l, @" nproc \d+$", " nproc (kernel default)"))
        .Select(l => Regex.Replace(l, @" - sysfs sysfs r[ow]$", " - sysfs sysfs (superblock)")));

    [Test]
    public async Task DefaultSpec_ProcessDevAndMounts_SameAsRunc()
    {
        // `clearoci spec`'s config as it is (but no terminal: the test reads plain stdout).
        string specDir = Path.Combine(WorkDir, "spec");
        Directory.CreateDirectory(specDir);
        var spec = await Oci("spec", "--bundle", specDir);
        Assert.That(spec.ExitCode, Is.EqualTo(0), spec.ToString());
        File.Copy(Path.Combine(specDir, "config.json"), ConfigPath, overwrite: true);
        EditConfig(c => c["process"]!["terminal"] = false);

        string script = ProcessScript + MountinfoScript;
        string runc = WithoutKernelLines(await RunRuncAsync(script));
        string ours = WithoutKernelLines(await RunOursAsync(script));

        Assert.Multiple(() =>
        {
            Assert.That(ours, Is.EqualTo(runc), "identity, capabilities, limits, /dev and mounts as runc shows them");
            // The default set: AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10).
            Assert.That(ours, Does.Contain("CapEff:\t0000000020000420").And.Contain("CapBnd:\t0000000020000420"));
            Assert.That(ours, Does.Contain("NoNewPrivs:\t1"));
            Assert.That(ours, Does.Contain("/dev/null character special file 1:3 666 0:0"));
            Assert.That(ours, Does.Contain("'/dev/ptmx' -> 'pts/ptmx'"));
            Assert.That(ours, Does.Contain("/sys/firmware ro,relatime - tmpfs tmpfs ro"), "a masked directory is an empty ro tmpfs");
            Assert.That(ours, Does.Contain("/sys /proc/sys ro,relatime - proc proc rw"), "readonly path");
            Assert.That(ours, Does.Contain("/dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666"));
        });
    }

    [Test]
    public async Task ProcessFields_UserCapabilitiesLimitsOom_SameAsRunc()
    {
        EditConfig(c =>
        {
            var p = c["process"]!;
            p["user"] = new JsonObject { ["uid"] = 1000, ["gid"] = 1000, ["additionalGids"] = new JsonArray(5, 65534), ["umask"] = 23 /* 027 */ };
            p["cwd"] = "/home/app";
            p["capabilities"] = new JsonObject
            {
                ["bounding"] = Strings("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETUID"),
                ["effective"] = Strings("CAP_KILL", "CAP_NET_BIND_SERVICE"),
                ["permitted"] = Strings("CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"),
                ["inheritable"] = Strings("CAP_NET_BIND_SERVICE", "CAP_NET_RAW"),
                ["ambient"] = Strings("CAP_NET_BIND_SERVICE"),
            };
            p["noNewPrivileges"] = false;
            p["rlimits"] = new JsonArray(
                new JsonObject { ["type"] = "RLIMIT_NOFILE", ["soft"] = 512, ["hard"] = 1000 },
                new JsonObject { ["type"] = "RLIMIT_NPROC", ["soft"] = 300, ["hard"] = 400 });
            p["oomScoreAdj"] = 123;
        });

        string runc = await RunRuncAsync(ProcessScript);
        string ours = await RunOursAsync(ProcessScript);

        Assert.Multiple(() =>
        {
            Assert.That(ours, Is.EqualTo(runc), "the same process as runc makes");
            Assert.That(ours, Does.StartWith("uid=1000(app) gid=1000(app) groups=5(tty),65534(nogroup)\n/home/app\n"));
            Assert.That(ours, Does.Contain("HOME=/home/app"), "HOME from the container's /etc/passwd");
            Assert.That(ours, Does.Contain("CapBnd:\t00000000000024a1"), "CHOWN, KILL, SETUID, NET_BIND_SERVICE, NET_RAW");
            Assert.That(ours, Does.Contain("CapAmb:\t0000000000000400").And.Contain("CapEff:\t0000000000000400").And.Contain("CapInh:\t0000000000002400"));
            Assert.That(ours, Does.Contain("NoNewPrivs:\t0"));
            Assert.That(ours, Does.Contain("\n0027\n"), "umask");
            Assert.That(ours, Does.Contain("nofile 512 1000 nproc 300"));
            Assert.That(ours, Does.Contain("oom 123"));
        });
    }

    [Test]
    public async Task UserNames_ConfigAndExecUser_ResolvedFromTheContainersPasswd()
    {
        File.AppendAllText(Path.Combine(Rootfs, "etc", "group"), "staff:x:50:app,nobody\naudio:x:29:app\n");
        EditConfig(c => c["process"]!["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0, ["username"] = "app" });
        SetArgs("sh", "-c", "echo init $(id) home=$HOME; exec sleep 1000");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        string init = await WaitForOutputAsync(c, "home=");

        async Task<string> Exec(string user)
        {
            var r = await Oci("exec", "--user", user, id, "sh", "-c", "echo $(id) home=$HOME");
            Assert.That(r.ExitCode, Is.EqualTo(0), $"exec --user {user}: {r}");
            return r.Stdout.Trim();
        }

        string nobody = await Exec("nobody");
        string appTty = await Exec("app:tty");
        string numeric = await Exec("1000:5");
        string numericUserNamedGroup = await Exec("65534:staff");
        var ghost = await Oci("exec", "--user", "ghost", id, "true");
        var noGroup = await Oci("exec", "--user", "app:nogroupatall", id, "true");

        Assert.Multiple(() =>
        {
            Assert.That(init, Does.Contain("init uid=1000(app) gid=1000(app) groups=29(audio),50(staff) home=/home/app"),
                "process.user.username: passwd entry and the groups that list the user");
            Assert.That(nobody, Is.EqualTo("uid=65534(nobody) gid=65534(nogroup) groups=50(staff) home=/nonexistent"));
            Assert.That(appTty, Is.EqualTo("uid=1000(app) gid=5(tty) home=/home/app"), "an explicit group: no supplementary groups");
            Assert.That(numeric, Is.EqualTo("uid=1000(app) gid=5(tty) home=/home/app"), "numbers still work");
            Assert.That(numericUserNamedGroup, Is.EqualTo("uid=65534(nobody) gid=50(staff) home=/nonexistent"));
            AssertFails(ghost, "unable to find user ghost");
            AssertFails(noGroup, "unable to find group nogroupatall");
        });
    }

    [Test]
    public async Task Mounts_OptionsTmpfsCopyUpCgroupMaskedReadonlyAndRoot()
    {
        EditConfig(c =>
        {
            c["root"]!["readonly"] = true;
            var mounts = c["mounts"]!.AsArray();
            mounts.Add(new JsonObject { ["destination"] = "/mnt/small", ["type"] = "tmpfs", ["source"] = "tmpfs", ["options"] = Strings("nosuid", "nodev", "noexec", "size=1m", "mode=0700") });
            mounts.Add(new JsonObject { ["destination"] = "/home", ["type"] = "tmpfs", ["source"] = "tmpfs", ["options"] = Strings("rw", "rprivate", "nosuid", "nodev", "tmpcopyup") });
            // Binds of guest paths (host paths are rewritten into the guest's share by the runtime).
            mounts.Add(new JsonObject { ["destination"] = "/mnt/gtmp", ["type"] = "bind", ["source"] = "/tmp", ["options"] = Strings("rbind", "ro", "nosuid", "nodev", "noexec", "rprivate") });
            mounts.Add(new JsonObject { ["destination"] = "/mnt/grun", ["type"] = "bind", ["source"] = "/run", ["options"] = Strings("bind", "shared") });
            mounts.Add(new JsonObject { ["destination"] = "/mnt/gsys", ["type"] = "bind", ["source"] = "/sys", ["options"] = Strings("rbind", "rslave", "ro") });
            mounts.Add(new JsonObject { ["destination"] = "/sys/fs/cgroup", ["type"] = "cgroup", ["source"] = "cgroup", ["options"] = Strings("ro", "nosuid", "noexec", "nodev") });
            var linux = c["linux"]!;
            linux["namespaces"]!.AsArray().Add(new JsonObject { ["type"] = "cgroup" });
            linux["resources"] = new JsonObject { ["pids"] = new JsonObject { ["limit"] = 77 } };
            linux["maskedPaths"]!.AsArray().Add(JsonValue.Create("/proc/cmdline"));
            linux["maskedPaths"]!.AsArray().Add(JsonValue.Create("/sys/kernel"));
            linux["rootfsPropagation"] = "shared";
        });

        string ours = await RunOursAsync(
            "touch /x 2>/dev/null || echo root-readonly; " +
            "echo 1 2>/dev/null > /proc/sys/kernel/panic || echo proc-sys-readonly; " +
            "echo cmdline $(wc -c < /proc/cmdline) kernel $(ls -A /sys/kernel | wc -l); " +
            "echo small $(stat -c %a /mnt/small); touch /mnt/small/f && echo small-writable; " +
            "echo copyup $(stat -c '%a %u:%g' /home/app) && touch /home/f && echo home-writable; " +
            "echo cgroup $(cat /proc/self/cgroup) pids.max $(cat /sys/fs/cgroup/pids.max); " +
            "touch /sys/fs/cgroup/x 2>/dev/null || echo cgroup-readonly; " +
            MountinfoScript);

        var mountinfo = ours.Split('\n');
        string Line(string mountPoint) => mountinfo.FirstOrDefault(l => l.Split(' ').ElementAtOrDefault(1) == mountPoint) ?? $"(no mount at {mountPoint})";

        Assert.Multiple(() =>
        {
            Assert.That(ours, Does.Contain("root-readonly"), "root.readonly");
            Assert.That(Line("/"), Does.Match(@"^/ / ro,\S* shared:\d+ "), "root.readonly and rootfsPropagation shared");
            Assert.That(ours, Does.Contain("proc-sys-readonly"), "readonlyPaths /proc/sys");
            Assert.That(ours, Does.Contain("cmdline 0 kernel 0"), "maskedPaths: a file reads empty, a directory is empty");
            Assert.That(Line("/proc/cmdline"), Does.Contain("/null /proc/cmdline"));
            Assert.That(Line("/sys/kernel"), Does.Match(@"^/ /sys/kernel ro,.* - tmpfs tmpfs ro"));
            Assert.That(ours, Does.Contain("small 700\nsmall-writable"));
            Assert.That(Line("/mnt/small"), Does.Match(@"rw,nosuid,nodev,noexec.* - tmpfs tmpfs rw,size=1024k,mode=700"));
            Assert.That(ours, Does.Contain("copyup 755 1000:1000\nhome-writable"), "tmpcopyup kept /home/app, its mode and owner, on a writable tmpfs");
            Assert.That(Line("/home"), Does.Contain("- tmpfs"));
            Assert.That(Line("/mnt/gtmp"), Does.Match(@"^/ /mnt/gtmp ro,nosuid,nodev,noexec"), "bind with ro, nosuid, nodev, noexec");
            Assert.That(Line("/mnt/grun"), Does.Match(@"^/ /mnt/grun rw\S* shared:\d+ "), "bind with shared propagation");
            Assert.That(Line("/mnt/gsys"), Does.Match(@"^/ /mnt/gsys ro\S* - sysfs "), "rbind, ro by remount");
            Assert.That(Line("/mnt/gsys/fs/cgroup"), Does.Contain(" - cgroup2 "), "rbind takes the submounts");
            Assert.That(ours, Does.Contain("cgroup 0::/ pids.max 77"), "the container's own group, at the root of its cgroup namespace");
            Assert.That(ours, Does.Contain("cgroup-readonly"));
            Assert.That(Line("/sys/fs/cgroup"), Does.Match(@"^/ /sys/fs/cgroup ro,nosuid,nodev,noexec.* - cgroup2 "));
        });
    }

    [Test]
    public async Task NamesSysctlsAndDevices_SameAsRunc()
    {
        EditConfig(c =>
        {
            c["hostname"] = "box1";
            c["domainname"] = "example.test";
            var linux = c["linux"]!;
            linux["sysctl"] = new JsonObject { ["kernel.shmmax"] = "123456789", ["net.ipv4.ip_forward"] = "1", ["kernel.msgmax"] = "4242" };
            linux["devices"] = new JsonArray(
                new JsonObject { ["path"] = "/dev/fuse", ["type"] = "c", ["major"] = 10, ["minor"] = 229, ["fileMode"] = 416 /* 0640 */, ["uid"] = 1000, ["gid"] = 5 },
                new JsonObject { ["path"] = "/dev/sub/mynull", ["type"] = "c", ["major"] = 1, ["minor"] = 3, ["fileMode"] = 384 /* 0600 */ },
                new JsonObject { ["path"] = "/dev/myfifo", ["type"] = "p", ["fileMode"] = 420 /* 0644 */ });
        });
        const string script =
            "hostname; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_forward; " +
            "for f in /dev/fuse /dev/sub/mynull /dev/myfifo; do stat -c '%n %F %t:%T %a %u:%g' $f; done; echo x > /dev/sub/mynull && echo null-writable";

        string runc = await RunRuncAsync(script);
        string ours = await RunOursAsync(script);
        // Debian 12's runc 1.1.5 leaves domainname unset ("(none)"): that line is asserted on its own.
        static string WithoutDomain(string s) => string.Join('\n', s.Split('\n').Where((_, i) => i != 2));

        Assert.Multiple(() =>
        {
            Assert.That(WithoutDomain(ours), Is.EqualTo(WithoutDomain(runc)));
            Assert.That(ours, Does.StartWith("box1\nbox1\nexample.test\n123456789\n4242\n1\n"), "names and sysctls in the container's uts, ipc and net namespaces");
            Assert.That(ours, Does.Contain("/dev/fuse character special file a:e5 640 1000:5"));
            Assert.That(ours, Does.Contain("/dev/sub/mynull character special file 1:3 600 0:0"));
            Assert.That(ours, Does.Contain("/dev/myfifo fifo 0:0 644 0:0"));
            Assert.That(ours, Does.EndWith("null-writable\n"));
        });
    }

    [Test]
    public async Task Terminal_DevConsoleIsThePtySlave()
    {
        EditConfig(c => c["process"]!["terminal"] = true);
        SetArgs("sh", "-c", "echo tty $(tty); stat -c 'console %F %t' /dev/console; echo mounts $(grep -c ' /dev/console ' /proc/self/mountinfo)");
        string id = NewId();
        using var console = new ConsoleSocket(Path.Combine(WorkDir, "console.sock"));
        var receive = console.ReceiveAsync(Cli.CreateTimeout);
        var create = Cli.RunDetachedAsync(Cli.Binary,
            ["--root", StateRoot, "create", "--bundle", Bundle, "--console-socket", console.Path, "--pid-file", Path.Combine(WorkDir, "pid"), id],
            Path.Combine(WorkDir, "out"), Path.Combine(WorkDir, "err"));
        if (await Task.WhenAny(receive, create) == create && create.Result.ExitCode != 0) Assert.Fail($"create failed: {create.Result}");
        var (_, master) = await receive;
        using (master)
        {
            Assert.That((await create).ExitCode, Is.EqualTo(0));
            int pid = int.Parse(File.ReadAllText(Path.Combine(WorkDir, "pid")).Trim());
            Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
            Assert.That(master.ReadToEnd(StatusDeadline), Is.True, $"the shell ends; output: \"{Terminal.Printable(master.Output)}\"");
            Assert.That(Native.Reap(pid, StatusDeadline).ShellCode, Is.EqualTo(0));
        }
        Assert.Multiple(() =>
        {
            Assert.That(master.Output, Does.Contain("tty /dev/pts/0"));
            Assert.That(master.Output, Does.Contain("console character special file 88"), "devpts (major 136) bound over /dev/console, as runc");
            Assert.That(master.Output, Does.Contain("mounts 1"));
        });
    }

    [Test]
    public async Task SchedulerIoPriorityPersonality_Applied()
    {
        // Newer than the runc on these machines (runc 1.2 applies them): asserted directly.
        EditConfig(c =>
        {
            c["process"]!["scheduler"] = new JsonObject { ["policy"] = "SCHED_BATCH", ["nice"] = 7 };
            c["process"]!["ioPriority"] = new JsonObject { ["class"] = "IOPRIO_CLASS_IDLE", ["priority"] = 0 };
            c["linux"]!["personality"] = new JsonObject { ["domain"] = "LINUX32" };
        });

        string ours = await RunOursAsync("echo nice-policy $(awk '{print $19, $41}' /proc/self/stat); ionice; uname -m");

        Assert.That(ours, Is.EqualTo("nice-policy 7 3\nidle\ni686\n"), "nice 7 with SCHED_BATCH (3), the idle I/O class, the 32-bit personality");
    }

    [Test]
    public async Task Run_UnknownUserName_FailsNamingIt()
    {
        EditConfig(c => c["process"]!["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0, ["username"] = "ghost" });
        SetArgs("true");
        string id = NewId();

        var r = await Cli.RunAsync(Cli.Binary, ["--root", StateRoot, "run", "--bundle", Bundle, id], Cli.CreateTimeout);

        AssertFails(r, "unable to find user ghost: no matching entries in passwd file");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "nothing left behind");
    }

    [Test]
    public async Task Features_ListTheCapabilitiesAndWhatTheGuestIgnores()
    {
        var ours = await Oci("features");
        Assert.That(ours.ExitCode, Is.EqualTo(0), ours.ToString());
        var doc = JsonNode.Parse(ours.Stdout)!;
        var caps = doc["linux"]!["capabilities"]!.AsArray().Select(c => (string)c!).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(caps, Has.Count.EqualTo(41).And.Contains("CAP_SYS_ADMIN").And.Contains("CAP_CHECKPOINT_RESTORE"));
            Assert.That((bool)doc["linux"]!["apparmor"]!["enabled"]!, Is.False);
            Assert.That((bool)doc["linux"]!["selinux"]!["enabled"]!, Is.False);
            Assert.That((string)doc["annotations"]!["org.clearoci.guest.ignored"]!, Does.Contain("apparmorProfile").And.Contain("selinuxLabel"));
            Assert.That(doc["mountOptions"]!.AsArray().Select(o => (string)o!), Does.Contain("tmpcopyup"));
        });
        if (!File.Exists(Cli.Runc)) return;
        var runc = await Cli.RunAsync(Cli.Runc, ["features"]);
        Assert.That(runc.ExitCode, Is.EqualTo(0), runc.ToString());
        var runcCaps = JsonNode.Parse(runc.Stdout)!["linux"]!["capabilities"]!.AsArray().Select(c => (string)c!);
        Assert.That(caps, Is.SupersetOf(runcCaps), "every capability runc knows");
    }

    /// <summary>
    /// linux.resources.devices: with the default deny-all and CAP_MKNOD, a made node of a device
    /// nobody allowed cannot be opened, the defaults can, and a rule that allows one device opens
    /// it; the same output as runc, which applies the rules with the host's devices cgroup.
    /// </summary>
    [Test]
    public async Task DeviceRules_DenyAndAllow_SameAsRunc()
    {
        // /dev/fuse (10:229) and loop0 (b 7:0) exist in the guest and on this host; the cgroup check comes before the driver's.
        const string script = "rm -f /tmp/fuse /tmp/loop; mknod /tmp/fuse c 10 229 && mknod /tmp/loop b 7 0 && " +
            "for f in /tmp/fuse /tmp/loop /dev/null /dev/zero; do head -c 0 $f 2>&1 && echo \"$f opens\"; done";
        EditConfig(c =>
        {
            foreach (var set in (string[])["bounding", "effective", "permitted"])
                c["process"]!["capabilities"]![set]!.AsArray().Add(JsonValue.Create("CAP_MKNOD"));
            c["linux"]!["resources"] = new JsonObject { ["devices"] = new JsonArray(new JsonObject { ["allow"] = false, ["access"] = "rwm" }) };
        });
        string denied = await RunOursAsync(script);
        Assert.That(denied, Is.EqualTo(await RunRuncAsync(script)), "deny all: the same as runc");
        Assert.That(denied, Does.Contain("/tmp/fuse: Operation not permitted").And.Contain("/tmp/loop: Operation not permitted")
            .And.Contain("/dev/null opens").And.Contain("/dev/zero opens"), denied);

        EditConfig(c => c["linux"]!["resources"]!["devices"]!.AsArray().Add((JsonNode)new JsonObject
        {
            ["allow"] = true, ["type"] = "c", ["major"] = 10, ["minor"] = 229, ["access"] = "rw",
        }));
        string allowed = await RunOursAsync(script);
        Assert.That(allowed, Is.EqualTo(await RunRuncAsync(script)), "one device allowed: the same as runc");
        Assert.That(allowed, Does.Contain("/tmp/fuse opens").And.Contain("/tmp/loop: Operation not permitted"), allowed);
    }
}
