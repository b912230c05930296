using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>
/// linux.seccomp enforced in the guest (real VMs, two boots): errnoRet and defaultErrnoRet reach
/// the container's system calls, argument rules decide, the init process and an exec'd one are
/// both filtered (Seccomp: 2, one filter), Docker's default profile loads and is enforced, and a
/// profile the compiler refuses fails `create` before anything exists.
/// </summary>
public class SeccompTests : LifecycleFixture
{
    private const string Report = "grep -E '^Seccomp(_filters)?:' /proc/self/status; ";

    /// <summary>Docker's default profile from the engine sample (the resolved one dockerd passes runc).</summary>
    private static JsonObject DockerProfile() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "spec-fixtures", "configs", "valid", "docker-config.json")))!["linux"]!["seccomp"]!.DeepClone().AsObject();

    /// <summary>
    /// Docker's profile with mkdir and chmod taken out of its allow list: mkdir falls to the default
    /// (defaultErrnoRet 13, EACCES), chmod gets a rule of its own (errnoRet 1, EPERM), and
    /// personality is allowed for PER_LINUX32 (8) only.
    /// </summary>
    private static JsonObject TestProfile()
    {
        string[] removed = ["mkdir", "mkdirat", "chmod", "fchmod", "fchmodat", "personality"];
        var profile = DockerProfile();
        profile["defaultErrnoRet"] = 13;
        var syscalls = new JsonArray();
        foreach (var rule in profile["syscalls"]!.AsArray())
        {
            var names = rule!["names"]!.AsArray().Select(n => (string)n!).Where(n => !removed.Contains(n)).ToArray();
            if (names.Length == 0) continue;
            var copy = rule.DeepClone().AsObject();
            copy["names"] = new JsonArray(names.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray());
            syscalls.Add(copy);
        }
        syscalls.Add(JsonNode.Parse("""{"names":["chmod","fchmod","fchmodat","fchmodat2"],"action":"SCMP_ACT_ERRNO","errnoRet":1}"""));
        syscalls.Add(JsonNode.Parse("""{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}"""));
        profile["syscalls"] = syscalls;
        return profile;
    }

    [Test]
    public async Task Profile_WithNoNewPrivileges_DeniesWithTheProfilesErrnosInInitAndExec()
    {
        EditConfig(c =>
        {
            c["process"]!["noNewPrivileges"] = true;
            c["linux"]!["seccomp"] = TestProfile();
        });
        SetArgs("sh", "-c", Report +
            "mkdir /denied-dir 2>&1; echo mkdir=$?; touch /f; chmod 600 /f 2>&1; echo chmod=$?; " +
            "linux32 true; echo linux32=$?; linux64 true 2>/dev/null; echo linux64=$?; echo done; exec sleep 1000");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        string output = await WaitForOutputAsync(c, "done");
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain("Seccomp:\t2\n"), "filter mode");
            Assert.That(output, Does.Contain("Seccomp_filters:\t1\n"), "one filter: the agent's own stage adds none");
            Assert.That(output, Does.Contain("Permission denied").And.Contain("mkdir=1"), "mkdir: defaultErrnoRet 13 (EACCES)");
            Assert.That(Directory.Exists(Path.Combine(Rootfs, "denied-dir")), Is.False);
            Assert.That(output, Does.Contain("Operation not permitted").And.Contain("chmod=1"), "chmod: errnoRet 1 (EPERM)");
            Assert.That(output, Does.Contain("linux32=0"), "personality(PER_LINUX32) matches the argument rule");
            Assert.That(output, Does.Contain("linux64=1"), "personality(PER_LINUX) does not");
        });

        var exec = await Oci("exec", id, "sh", "-c", Report + "mkdir /exec-dir 2>&1; echo mkdir=$?");
        Assert.That(exec.ExitCode, Is.EqualTo(0), exec.ToString());
        Assert.That(exec.Stdout, Does.Contain("Seccomp:\t2\n").And.Contain("Seccomp_filters:\t1\n").And.Contain("Permission denied").And.Contain("mkdir=1"),
            "an exec'd process gets the container's filter");

        Assert.That((await Oci("delete", "--force", id)).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(c).ShellCode, Is.EqualTo(137));
    }

    [Test]
    public async Task DockerDefaultProfile_WithoutNoNewPrivileges_LoadsAndIsEnforced()
    {
        // Docker's usual case: no noNewPrivileges, so the filter is loaded while the stage still has CAP_SYS_ADMIN.
        EditConfig(c =>
        {
            c["process"]!["noNewPrivileges"] = false;
            c["linux"]!["seccomp"] = DockerProfile();
        });
        SetArgs("sh", "-c", Report + "unshare -U true 2>&1; echo unshare=$?; true");
        var r = await Cli.RunAsync(Cli.Binary, ["--root", StateRoot, "run", "--bundle", Bundle, NewId()], Cli.CreateTimeout);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(r.Stdout, Does.Contain("Seccomp:\t2\n").And.Contain("Seccomp_filters:\t1\n"));
            Assert.That(r.Stdout, Does.Contain("Operation not permitted").And.Contain("unshare=").And.Not.Contain("unshare=0"),
                "unshare is not in Docker's allow list: EPERM (a user namespace needs no capability)");
        });
    }

    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_SOMETIMES"}]}""", "unknown seccomp action \"SCMP_ACT_SOMETIMES\"")]
    [TestCase("""{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/run/agent.sock"}""", "seccomp user notification (a seccomp agent) is not supported")]
    [TestCase("""{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_PDP11"]}""", "unknown architecture \"SCMP_ARCH_PDP11\"")]
    public async Task InvalidProfile_CreateFailsAndLeavesNothing(string profile, string message)
    {
        EditConfig(c => c["linux"]!["seccomp"] = JsonNode.Parse(profile));
        string id = NewId();
        var c = await CreateAsync(id, expectSuccess: false);
        AssertFails(c.Result, message);
        Assert.That(File.Exists(Path.Combine(WorkDir, $"{id}.pid")), Is.False, "no pid file");
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "no state directory");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no VM was started");
    }
}
