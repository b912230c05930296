using System.Text.RegularExpressions;

namespace ClearOci.LifecycleTests;

/// <summary>
/// Terminals as runc does them: `create`/`exec` with --console-socket hand the pty master to the
/// engine (one message, payload "/dev/ptmx", the fd attached); the test talks to the container's
/// shell through that fd, sizes the window on it, and reads the exit status as an engine does.
/// </summary>
[TestFixture]
public sealed partial class TerminalTests : LifecycleFixture
{
    private static readonly TimeSpan TerminalDeadline = TimeSpan.FromSeconds(30);

    private void UseTerminal(bool terminal) => EditConfig(c => c["process"]!["terminal"] = terminal);

    /// <summary>`create --bundle B [--console-socket S] --pid-file P ID` as an engine runs it; the pid (0 on failure).</summary>
    private async Task<(CliResult Result, int Pid)> CreateWithConsoleAsync(string id, string? consoleSocket)
    {
        string pidFile = Path.Combine(WorkDir, $"{id}.pid");
        var result = await Cli.RunDetachedAsync(Cli.Binary,
            ["--root", StateRoot, "create", "--bundle", Bundle, .. consoleSocket is null ? Array.Empty<string>() : ["--console-socket", consoleSocket],
             "--pid-file", pidFile, id],
            Path.Combine(WorkDir, $"{id}.out"), Path.Combine(WorkDir, $"{id}.err"));
        int pid = result.ExitCode == 0 && File.Exists(pidFile) ? int.Parse(File.ReadAllText(pidFile).Trim()) : 0;
        return (result, pid);
    }

    /// <summary>
    /// Waits for the console socket's message while <paramref name="verb"/> runs; fails early if the
    /// verb fails first (nothing would ever connect).
    /// </summary>
    private static async Task<Terminal> ReceiveMasterAsync(ConsoleSocket console, Task<CliResult> verb)
    {
        var receive = console.ReceiveAsync(Cli.CreateTimeout);
        var first = await Task.WhenAny(receive, verb);
        if (first == verb && verb.Result.ExitCode != 0 && !receive.IsCompleted)
            Assert.Fail($"the verb failed before anything was sent to the console socket: {verb.Result}");
        var (payload, master) = await receive;
        Assert.That(payload, Is.EqualTo("/dev/ptmx"), "the console-socket message's payload, as runc sends it");
        Assert.That(master.IsTerminal, Is.True, "the fd received is a terminal (TIOCGWINSZ works)");
        return master;
    }

    /// <summary>Exit 1 and a message naming the console socket (runc: "console socket"; "--console-socket" names it too).</summary>
    private static void AssertFailsNamingConsoleSocket(CliResult r)
    {
        Assert.That(r.ExitCode, Is.EqualTo(1), $"expected exit 1: {r}");
        Assert.That(r.Stderr, Does.Match("console[ -]socket"), $"the message names the console socket: {r}");
    }

    [GeneratedRegex(@"(?m)^(\d+) (\d+)\r?$")]
    private static partial Regex SttySizeLine();

    [GeneratedRegex(@"/dev/pts/\d+")]
    private static partial Regex PtsName();

    /// <summary>
    /// Runs `stty size` in the shell until it prints the size set on the master (the runtime polls
    /// the size and forwards it). Each round ends at a marker the shell prints after stty, so a
    /// round where stty found no size yet (it prints an error for 0x0) is just another round.
    /// </summary>
    private static void AwaitSize(Terminal master, int rows, int cols)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int round = 0; ; round++)
        {
            int from = master.Output.Length;
            master.Write($"stty size; echo $(({round}+1000))done\n");
            string got = master.ReadUntil($"{round + 1000}done", TerminalDeadline, from);
            string last = SttySizeLine().Match(got) is { Success: true } m ? m.Value.Trim() : Terminal.Printable(got);
            if (last == $"{rows} {cols}") return;
            if (clock.Elapsed > TimeSpan.FromSeconds(15))
                Assert.Fail($"stty size still prints \"{last}\" 15 s after the master was sized {rows}x{cols}");
            master.Pump(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>tty, arithmetic and the window size through the master; returns the tty's name.</summary>
    private static string TalkToShell(Terminal master)
    {
        int from = master.Output.Length;
        master.Write("tty; echo $((6*7))\n");
        string got = master.ReadUntil("42", TerminalDeadline, from);
        var pts = PtsName().Match(got);
        Assert.That(pts.Success, Is.True, $"tty prints /dev/pts/<n>: \"{Terminal.Printable(got)}\"");
        AwaitSize(master, 33, 111);
        return pts.Value;
    }

    [Test]
    public async Task Create_WithConsoleSocket_ShellTalksThroughTheMaster()
    {
        UseTerminal(true);
        SetArgs("sh");
        string id = NewId();
        using var console = new ConsoleSocket(Path.Combine(WorkDir, "console.sock"));
        var create = CreateWithConsoleAsync(id, console.Path);
        using var master = await ReceiveMasterAsync(console, create.ContinueWith(t => t.Result.Result));
        var (result, pid) = await create;
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(await StatusAsync(id), Is.EqualTo("created"));

        master.SetSize(33, 111); // before start: the size must reach the shell all the same
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        TalkToShell(master);

        // A resize during the session follows too.
        master.SetSize(40, 100);
        AwaitSize(master, 40, 100);

        // The line discipline is the container's: ^C interrupts the foreground command.
        int from = master.Output.Length;
        master.Write("echo $((1+1))sleeping; sleep 100\n");
        master.ReadUntil("2sleeping", TerminalDeadline, from);
        master.Pump(TimeSpan.FromMilliseconds(300)); // let sleep start
        from = master.Output.Length;
        master.Write("\u0003");
        master.ReadUntil("^C", TimeSpan.FromSeconds(10), from);
        master.Write("echo rc=$?\n");
        master.ReadUntil("rc=130", TimeSpan.FromSeconds(10), from);

        master.Write("exit 9\n");
        Assert.That(master.ReadToEnd(TerminalDeadline), Is.True,
            $"reads on the master end (EIO) once the container's shell exited; output: \"{Terminal.Printable(master.Output)}\"");
        var exit = Native.Reap(pid, StatusDeadline);
        Assert.That(exit, Is.EqualTo(new WaitResult(true, 9, 0)), "waitpid on the pid-file pid gives the shell's exit status");
        Assert.That(await StatusAsync(id), Is.EqualTo("stopped"));
        Assert.That(Created.ReadShared(Path.Combine(WorkDir, $"{id}.out")), Is.Empty, "a terminal container writes nothing to create's stdout");
        Assert.That((await Oci("delete", id)).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task Create_TerminalWithoutConsoleSocket_Fails()
    {
        UseTerminal(true);
        string id = NewId();
        var (result, _) = await CreateWithConsoleAsync(id, null);
        AssertFailsNamingConsoleSocket(result);
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "no state directory");
        Assert.That(File.Exists(Path.Combine(WorkDir, $"{id}.pid")), Is.False, "no pid file");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no VM process");
    }

    [Test]
    public async Task Create_ConsoleSocketWithoutTerminal_Fails()
    {
        UseTerminal(false);
        string id = NewId();
        using var console = new ConsoleSocket(Path.Combine(WorkDir, "console.sock"));
        var (result, _) = await CreateWithConsoleAsync(id, console.Path);
        AssertFailsNamingConsoleSocket(result);
        Assert.That(Directory.Exists(Path.Combine(StateRoot, id)), Is.False, "no state directory");
        Assert.That(File.Exists(Path.Combine(WorkDir, $"{id}.pid")), Is.False, "no pid file");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no VM process");
    }

    private async Task<Created> StartedSleeperAsync()
    {
        UseTerminal(false);
        SetArgs("sleep", "1000");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        return c;
    }

    [Test]
    public async Task ExecTty_ShellTalksThroughTheMaster_ExitCodeIsTheShells()
    {
        var c = await StartedSleeperAsync();

        using (var console = new ConsoleSocket(Path.Combine(WorkDir, "exec.sock")))
        {
            var exec = Oci("exec", "-t", "--console-socket", console.Path, c.Id, "sh");
            using var master = await ReceiveMasterAsync(console, exec);
            master.SetSize(33, 111);
            TalkToShell(master);
            master.Write("exit 4\n");
            var r = await exec;
            Assert.That(r.ExitCode, Is.EqualTo(4), $"exec exits with the shell's status: {r}");
            Assert.That(r.Stdout, Is.Empty, "with a terminal, output goes to the master, not exec's stdout");
            // EIO on the master after the exit: ExecTty_MasterReadsEio_OnceTheProcessExited (a known bug).
        }

        // --tty, the long form, with a one-shot command.
        using (var console = new ConsoleSocket(Path.Combine(WorkDir, "exec2.sock")))
        {
            var exec = Oci("exec", "--tty", "--console-socket", console.Path, c.Id, "sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo both-ttys; exit 3");
            using var master = await ReceiveMasterAsync(console, exec);
            master.ReadUntil("both-ttys", TerminalDeadline);
            Assert.That((await exec).ExitCode, Is.EqualTo(3));
        }

        AssertFailsNamingConsoleSocket(await Oci("exec", "-t", c.Id, "sh"));
        Assert.That(await StatusAsync(c.Id), Is.EqualTo("running"), "the execs' ends leave the container running");
    }

    [Test]
    public async Task ExecDetachTty_RelayExitsWithTheShellsStatus()
    {
        var c = await StartedSleeperAsync();
        string pidFile = Path.Combine(WorkDir, "exec.pid");
        using var console = new ConsoleSocket(Path.Combine(WorkDir, "exec.sock"));
        var exec = Cli.RunDetachedAsync(Cli.Binary,
            ["--root", StateRoot, "exec", "--detach", "--tty", "--console-socket", console.Path, "--pid-file", pidFile, c.Id, "sh"],
            Path.Combine(WorkDir, "exec.out"), Path.Combine(WorkDir, "exec.err"), Cli.VerbTimeout);
        using var master = await ReceiveMasterAsync(console, exec);
        var r = await exec;
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        int relay = int.Parse(File.ReadAllText(pidFile).Trim());

        master.SetSize(33, 111);
        TalkToShell(master);
        master.Write("exit 6\n");
        Assert.That(Native.Reap(relay, StatusDeadline), Is.EqualTo(new WaitResult(true, 6, 0)), "waitpid on the relay gives the shell's status");
        Assert.That(await StatusAsync(c.Id), Is.EqualTo("running"));
    }

    [Test]
    public async Task ExecTty_MasterReadsEio_OnceTheProcessExited()
    {
        var c = await StartedSleeperAsync();
        using var console = new ConsoleSocket(Path.Combine(WorkDir, "exec.sock"));
        var exec = Oci("exec", "-t", "--console-socket", console.Path, c.Id, "sh", "-c", "echo bye; exit 2");
        using var master = await ReceiveMasterAsync(console, exec);
        master.ReadUntil("bye", TerminalDeadline);
        Assert.That((await exec).ExitCode, Is.EqualTo(2));
        // The process has exited and exec has returned: nothing in the container holds the terminal any more.
        Assert.That(master.ReadToEnd(TimeSpan.FromSeconds(5)), Is.True,
            $"reads on the master end (EIO) once the exec'd process is gone; output: \"{Terminal.Printable(master.Output)}\"");
    }
}
