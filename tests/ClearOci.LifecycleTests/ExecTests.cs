using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClearOci.LifecycleTests;

/// <summary>`exec` through the real CLI: a process inside the running container's VM, with exec's own stdio and exit code.</summary>
[TestFixture]
public sealed partial class ExecTests : LifecycleFixture
{
    /// <summary>A started container whose process is `sleep 1000` (or <paramref name="args"/>).</summary>
    private async Task<Created> StartedAsync(params string[] args)
    {
        SetArgs(args.Length > 0 ? args : ["sleep", "1000"]);
        string id = NewId();
        var c = await CreateAsync(id);
        var start = await Oci("start", id);
        Assert.That(start.ExitCode, Is.EqualTo(0), start.ToString());
        return c;
    }

    /// <summary>`clearoci --root R exec ...` with <paramref name="input"/> written to its stdin, then EOF.</summary>
    private async Task<CliResult> ExecWithStdinAsync(string input, params string[] args)
    {
        var psi = new ProcessStartInfo(Cli.Binary)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        string[] all = ["--root", StateRoot, "exec", .. args];
        foreach (var a in all) psi.ArgumentList.Add(a);
        string command = $"clearoci --root {StateRoot} exec {string.Join(' ', args)} <<< {Terminal.Printable(input)}";
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardInput.WriteAsync(input);
        p.StandardInput.Close();
        using (var cts = new CancellationTokenSource(Cli.VerbTimeout))
        {
            try { await p.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
                Assert.Fail($"`{command}` did not finish within {Cli.VerbTimeout.TotalSeconds:0} s (stdin's EOF not delivered?)");
            }
        }
        var result = new CliResult(command, p.ExitCode, await stdout, await stderr, clock.Elapsed);
        TestContext.Out.WriteLine(result);
        return result;
    }

    private static int Ppid(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
    }

    [Test]
    public async Task Exec_OutputAndExitCode_AreTheProcesss()
    {
        var c = await StartedAsync();

        var r = await Oci("exec", c.Id, "sh", "-c", "echo in-exec; echo in-exec-err >&2; exit 5");
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(5), $"exec exits with the process's code: {r}");
            Assert.That(r.Stdout, Is.EqualTo("in-exec\n"), "the process's stdout is exec's stdout");
            Assert.That(r.Stderr, Does.Contain("in-exec-err\n"), "the process's stderr is exec's stderr");
            Assert.That(r.Stdout, Does.Not.Contain("in-exec-err"));
            Assert.That(c.Stdout, Does.Not.Contain("in-exec"), "nothing of the exec reaches the container's own stdout");
        });

        var ok = await Oci("exec", c.Id, "true");
        Assert.That(ok.ExitCode, Is.EqualTo(0), ok.ToString());

        // Death by a signal: the shell's convention, 128 + N (as runc exec reports it).
        var killed = await Oci("exec", c.Id, "sh", "-c", "kill -9 $$");
        Assert.That(killed.ExitCode, Is.EqualTo(137), $"128 + SIGKILL: {killed}");

        Assert.That(await StatusAsync(c.Id), Is.EqualTo("running"), "the execs ended; the container did not");
        Assert.That((await Oci("kill", c.Id, "KILL")).ExitCode, Is.EqualTo(0));
        Assert.That(ReapExit(c).ShellCode, Is.EqualTo(137), "the container's own status is untouched by the execs'");
        Assert.That((await Oci("delete", c.Id)).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task Exec_Stdin_ReachesTheProcess_ThenEof()
    {
        var c = await StartedAsync();
        var r = await ExecWithStdinAsync("hello\n", c.Id, "cat");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout, Is.EqualTo("hello\n"), "exec's stdin reaches cat, and its EOF ends cat");

        // More than one pipe buffer each way.
        string big = string.Concat(Enumerable.Range(0, 20000).Select(i => $"line {i}\n"));
        var wc = await ExecWithStdinAsync(big, c.Id, "sh", "-c", "wc -c; exit 3");
        Assert.That(wc.ExitCode, Is.EqualTo(3), wc.ToString());
        Assert.That(wc.Stdout.Trim(), Is.EqualTo(big.Length.ToString()), "every byte of a large stdin arrives");
    }

    [Test]
    public async Task Exec_EnvCwdUser_Apply()
    {
        var c = await StartedAsync();
        var r = await Oci("exec", "--env", "A=b", "--cwd", "/tmp", "--user", "1000:1000", c.Id,
            "sh", "-c", "echo $A $(pwd) $(id -u):$(id -g)");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout, Is.EqualTo("b /tmp 1000:1000\n"));

        // Without flags: the container's process is the template (its env, cwd "/" and user root).
        var plain = await Oci("exec", c.Id, "sh", "-c", "echo $TERM $(pwd) $(id -u):$(id -g) $PATH");
        Assert.That(plain.ExitCode, Is.EqualTo(0), plain.ToString());
        Assert.That(plain.Stdout, Is.EqualTo("xterm / 0:0 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"));

        // -e twice, and --env overriding the template's value.
        var two = await Oci("exec", "-e", "X=1", "-e", "TERM=dumb", c.Id, "sh", "-c", "echo $X $TERM");
        Assert.That(two.ExitCode, Is.EqualTo(0), two.ToString());
        Assert.That(two.Stdout, Is.EqualTo("1 dumb\n"));
    }

    [Test]
    public async Task Exec_SeesTheContainersProcessesAndHostname()
    {
        EditConfig(cfg => cfg["hostname"] = "exec-host");
        var c = await StartedAsync();

        var ps = await Oci("exec", c.Id, "ps");
        Assert.That(ps.ExitCode, Is.EqualTo(0), ps.ToString());
        Assert.That(ps.Stdout, Does.Contain("sleep 1000"), "exec's ps lists the container's process");
        Assert.That(PidOneIsSleep().IsMatch(ps.Stdout), Is.True,
            $"the container's process is pid 1 of exec's pid namespace:\n{ps.Stdout}");

        var host = await Oci("exec", c.Id, "hostname");
        Assert.That(host.ExitCode, Is.EqualTo(0), host.ToString());
        Assert.That(host.Stdout, Is.EqualTo("exec-host\n"), "exec is in the container's uts namespace");

        // The same mount namespace: the exec sees a file the container's rootfs holds.
        File.WriteAllText(Path.Combine(Rootfs, "tmp", "from-host"), "visible\n");
        var cat = await Oci("exec", c.Id, "cat", "/tmp/from-host");
        Assert.That(cat.Stdout, Is.EqualTo("visible\n"), cat.ToString());
    }

    [GeneratedRegex(@"^\s*1\s.*\bsleep 1000\s*$", RegexOptions.Multiline)]
    private static partial Regex PidOneIsSleep();

    [Test]
    public async Task Exec_MissingProgram_FailsNamingIt()
    {
        var c = await StartedAsync();
        var r = await Oci("exec", c.Id, "no-such-program-xyz", "arg");
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.ToString());
        Assert.That(r.Stderr, Does.Contain("no-such-program-xyz"), $"the message names the program: {r}");
        Assert.That(r.Stdout, Is.Empty);

        var abs = await Oci("exec", c.Id, "/bin/no-such-program-abs");
        Assert.That(abs.ExitCode, Is.Not.EqualTo(0), abs.ToString());
        Assert.That(abs.Stderr, Does.Contain("/bin/no-such-program-abs"), abs.ToString());

        Assert.That(await StatusAsync(c.Id), Is.EqualTo("running"), "a failed exec leaves the container running");
        var after = await Oci("exec", c.Id, "echo", "still-fine");
        Assert.That(after.Stdout, Is.EqualTo("still-fine\n"), after.ToString());
    }

    [Test]
    public async Task Exec_ProcessFile_ArgsEnvCwdUser()
    {
        var c = await StartedAsync();
        var process = new JsonObject
        {
            ["terminal"] = false,
            ["user"] = new JsonObject { ["uid"] = 1000, ["gid"] = 1000 },
            ["args"] = new JsonArray("sh", "-c", "echo $FOO $(pwd) $(id -u):$(id -g); echo to-err >&2; exit 7"),
            ["env"] = new JsonArray("PATH=/bin", "FOO=from-json"),
            ["cwd"] = "/home/app",
        };
        string file = Path.Combine(WorkDir, "process.json");
        File.WriteAllText(file, process.ToJsonString());

        var r = await Oci("exec", "--process", file, c.Id);
        Assert.That(r.ExitCode, Is.EqualTo(7), r.ToString());
        Assert.That(r.Stdout, Is.EqualTo("from-json /home/app 1000:1000\n"));
        Assert.That(r.Stderr, Does.Contain("to-err"));

        // A process file that is not one fails before anything runs, naming the problem.
        string bad = Path.Combine(WorkDir, "bad.json");
        File.WriteAllText(bad, "{ \"args\": 42 }");
        var badRun = await Oci("exec", "-p", bad, c.Id);
        Assert.That(badRun.ExitCode, Is.EqualTo(1), badRun.ToString());
        Assert.That(badRun.Stderr, Does.Contain("args"), $"names the field: {badRun}");
    }

    [Test]
    public async Task ExecDetach_PidFileRelay_ExitsWithTheProcesssStatus()
    {
        var c = await StartedAsync();
        string pidFile = Path.Combine(WorkDir, "exec.pid");
        string outPath = Path.Combine(WorkDir, "exec.out"), errPath = Path.Combine(WorkDir, "exec.err");
        string made = Path.Combine(Rootfs, "tmp", "from-detached");

        var r = await Cli.RunDetachedAsync(Cli.Binary,
            ["--root", StateRoot, "exec", "--detach", "--pid-file", pidFile, c.Id,
             "sh", "-c", "echo detached-out; sleep 1; echo made > /tmp/from-detached; exit 6"],
            outPath, errPath, Cli.VerbTimeout);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)), "exec --detach returns without waiting for the process");
        Assert.That(File.Exists(pidFile), Is.True, "exec --detach writes the pid file");
        int relay = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.That(Ppid(relay), Is.EqualTo(Environment.ProcessId), "the relay is re-parented to the caller's subreaper");

        var exit = Native.Reap(relay, StatusDeadline);
        Assert.That(exit, Is.EqualTo(new WaitResult(true, 6, 0)), "waitpid on the relay gives the exec'd process's status");
        Assert.That(File.Exists(made) ? File.ReadAllText(made) : "(missing)", Is.EqualTo("made\n"),
            "the detached process wrote into the container's /tmp, which is the bundle's rootfs/tmp");
        Assert.That(Created.ReadShared(outPath), Does.Contain("detached-out"), "the relay held exec's stdout for the process");
        Assert.That(await StatusAsync(c.Id), Is.EqualTo("running"));
    }

    [Test]
    public async Task Exec_IntoAStoppedContainer_Fails()
    {
        var c = await StartedAsync("sh", "-c", "exit 0");
        await WaitForStatusAsync(c.Id, "stopped");
        Assert.That(ReapExit(c), Is.EqualTo(new WaitResult(true, 0, 0)));

        AssertFails(await Oci("exec", c.Id, "true"), "stopped");

        string pidFile = Path.Combine(WorkDir, "exec.pid");
        // A private TMPDIR: exec --detach writes the process for its relay there, and must not leave it behind.
        string tmp = Directory.CreateDirectory(Path.Combine(WorkDir, "tmpdir")).FullName;
        var detached = await Cli.RunAsync(Cli.Binary, ["--root", StateRoot, "exec", "--detach", "--pid-file", pidFile, c.Id, "true"],
            env: new Dictionary<string, string> { ["TMPDIR"] = tmp });
        Assert.That(detached.ExitCode, Is.EqualTo(1), detached.ToString());
        Assert.That(detached.Stderr, Does.Contain("stopped").Or.Contain("not running"), detached.ToString());
        Assert.That(File.Exists(pidFile), Is.False, "no pid file for a refused exec --detach");
        Assert.That(Directory.GetFiles(tmp), Is.Empty, "a refused exec --detach leaves no temporary file");

        AssertFails(await Oci("exec", "missing-" + c.Id, "true"), "does not exist");
        Assert.That((await Oci("delete", c.Id)).ExitCode, Is.EqualTo(0));
    }

    // A regression test: the supervisor used to write exec's output with .NET FileStreams over the
    // passed fds, which pwrite at their own position and never move the shared file offset, so the
    // second exec overwrote the first ("two\n" alone).
    [Test]
    public async Task Exec_OutputToARegularFile_AdvancesTheCallersOffset()
    {
        var c = await StartedAsync();
        string file = Path.Combine(WorkDir, "out.txt");
        // As a script does it: a plain `>` redirection (not O_APPEND), shared by the two execs and the shell.
        var sh = await Cli.RunAsync("/bin/sh",
            ["-c", "{ \"$1\" --root \"$2\" exec \"$3\" echo one; \"$1\" --root \"$2\" exec \"$3\" echo two; echo host; } > \"$4\"",
             "sh", Cli.Binary, StateRoot, c.Id, file]);
        Assert.That(sh.ExitCode, Is.EqualTo(0), sh.ToString());
        Assert.That(File.ReadAllText(file), Is.EqualTo("one\ntwo\nhost\n"),
            "each exec's output lands after what is already in the file, as with runc (the process writes through the caller's file description)");
    }

    [Test]
    public async Task Exec_IntoAPausedContainer_FailsSayingPaused()
    {
        var c = await StartedAsync();
        Assert.That((await Oci("pause", c.Id)).ExitCode, Is.EqualTo(0));
        var r = await Oci("exec", c.Id, "true");
        Assert.That((await Oci("resume", c.Id)).ExitCode, Is.EqualTo(0));
        var after = await Oci("exec", c.Id, "echo", "after-resume");
        Assert.That(after.Stdout, Is.EqualTo("after-resume\n"), $"exec works again after resume: {after}");
        AssertFails(r, "paused");
    }

    [DllImport("libc", SetLastError = true)] private static extern int mkfifo(string path, uint mode);
    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, byte[] buf, nuint count);
    [DllImport("libc", SetLastError = true)] private static extern nint write(int fd, byte[] buf, nuint count);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);

    [Test]
    public async Task Exec_AfterItReturns_NoLongerReadsTheCallersStdin()
    {
        var c = await StartedAsync();
        // exec's stdin: a FIFO that the test holds open for reading and writing, so it never ends,
        // as an interactive terminal never does.
        string fifo = Path.Combine(WorkDir, "stdin.fifo");
        Assert.That(mkfifo(fifo, 0x180 /* 0600 */), Is.EqualTo(0), $"mkfifo: errno {Marshal.GetLastPInvokeError()}");
        int fd = open(fifo, 2 /* O_RDWR */ | 0x800 /* O_NONBLOCK */ | 0x80000 /* O_CLOEXEC */);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), $"open {fifo}: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            var r = await Cli.RunAsync("/bin/sh", ["-c", "exec \"$1\" --root \"$2\" exec \"$3\" true < \"$4\"", "sh", Cli.Binary, StateRoot, c.Id, fifo]);
            Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());

            byte[] late = "late\n"u8.ToArray();
            Assert.That((int)write(fd, late, (nuint)late.Length), Is.EqualTo(late.Length));
            await Task.Delay(1000); // the observation period is the point: a reader left behind takes the bytes in it
            byte[] buf = new byte[64];
            nint n = read(fd, buf, 64);
            Assert.That(n > 0 ? System.Text.Encoding.ASCII.GetString(buf, 0, (int)n) : $"(nothing: read {n}, errno {Marshal.GetLastPInvokeError()})",
                Is.EqualTo("late\n"), "input written after exec returned is still there for the caller: nobody else reads exec's stdin any more");
        }
        finally { close(fd); }
    }
}
