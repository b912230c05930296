namespace ClearOci.VmTests;

/// <summary>Verbs that start no VM.</summary>
public class CliTests
{
    /// <summary>An unknown command is an error, with or without -h (runc exits 3 for `runc foo -h`; help used to hide it).</summary>
    [TestCase("no-such-verb", "-h")]
    [TestCase("no-such-verb")]
    public async Task AnUnknownCommand_ExitsNonZero_NamingIt(params string[] args)
    {
        var r = await Cli.RunAsync(args);
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.ToString());
        Assert.That(r.StderrText, Does.Contain("no-such-verb"), r.ToString());
    }

    /// <summary>
    /// Nothing reaches the controlling terminal that was not asked for: .NET's Console wrote the
    /// keypad-transmit sequence (ESC [ ? 1 h ESC =) to it on every invocation, even with all of
    /// stdio redirected. `script` gives the command a terminal and copies what reaches it.
    /// </summary>
    [TestCase("list")]
    [TestCase("--version")]
    [TestCase("state no-such-container")]
    [TestCase("no-such-verb")]
    [TestCase("run --help")]
    [TestCase("features")]
    public async Task AnInvocation_WritesNothingToTheTerminal(string args)
    {
        Cli.RequireBinary();
        string root = Directory.CreateTempSubdirectory("clearoci-tty-").FullName;
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            foreach (var a in new[] { "-qec", $"'{Cli.Binary}' --root '{root}' {args} >/dev/null 2>&1", "/dev/null" }) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            p.StandardInput.Close();
            var output = p.StandardOutput.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await p.WaitForExitAsync(cts.Token);
            string seen = await output;
            Assert.That(seen, Is.Empty, $"clearoci {args} wrote to the terminal: {string.Join(' ', seen.Select(c => ((int)c).ToString("x2")))}");
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Test]
    public async Task CheckSaysVmsCanStartHere()
    {
        var r = await Cli.RunAsync(["check"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdoutText, Does.Contain("tcg").Or.Contain("kvm"));
        Assert.That(r.StdoutText, Does.Match(@"(?m)^accelerator:\s+(kvm|tcg)"));
    }

    [Test]
    public async Task ConfigFile_OverridesTheDefaults_AndTheEnvironmentOverridesTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("clearoci-config-").FullName;
        try
        {
            string file = Path.Combine(dir, "config.json");
            File.WriteAllText(file, """{ "memoryMiB": 200, "vcpus": 2 }""");
            var env = new Dictionary<string, string?> { ["CLEAROCI_CONFIG"] = file, ["CLEAROCI_MEMORY_MIB"] = null, ["CLEAROCI_VCPUS"] = null };
            var r = await Cli.RunAsync(["check", "--print-qemu-argv"], env: env);
            Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
            var argv = r.StdoutText.Split('\n');
            Assert.That(argv[Array.IndexOf(argv, "-m") + 1], Does.StartWith("200M"), r.StdoutText);
            Assert.That(argv[Array.IndexOf(argv, "-smp") + 1], Does.StartWith("2"), r.StdoutText);

            env["CLEAROCI_VCPUS"] = "1";
            r = await Cli.RunAsync(["check", "--print-qemu-argv"], env: env);
            argv = r.StdoutText.Split('\n');
            Assert.That(argv[Array.IndexOf(argv, "-smp") + 1], Does.StartWith("1"), r.StdoutText);

            r = await Cli.RunAsync(["check"], env: env);
            Assert.That(r.StdoutText, Does.Contain($"config:       {file}"), r.ToString());

            File.WriteAllText(file, """{ "memory": 200 }""");
            r = await Cli.RunAsync(["check", "--print-qemu-argv"], env: env);
            Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
            Assert.That(r.StderrText, Does.Contain($"{file}: unknown key \"memory\""), r.ToString());

            env["CLEAROCI_CONFIG"] = Path.Combine(dir, "missing.json");
            r = await Cli.RunAsync(["check", "--print-qemu-argv"], env: env);
            Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
            Assert.That(r.StderrText, Does.Contain("missing.json: no such file"), r.ToString());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public async Task VersionIsRuncsThreeLines()
    {
        var r = await Cli.RunAsync(["--version"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var lines = r.StdoutText.Split('\n');
        Assert.That(lines, Has.Length.EqualTo(4), r.ToString());
        Assert.That(lines[0], Does.StartWith("clearoci version "));
        Assert.That(lines[1], Does.StartWith("commit: "));
        Assert.That(lines[2], Does.StartWith("spec: "));
        Assert.That(lines[3], Is.Empty);
        Assert.That(r.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }
}
