namespace ClearOci.EngineTests;

/// <summary>Docker 20.10 with `--runtime clearoci` (daemon.json "runtimes"), on a private dockerd + containerd.</summary>
[TestFixture]
public sealed class DockerTests : EngineScenarios
{
    protected override string EngineName => "docker";
    protected override string[] RunClearOci => ["run", "--runtime", "clearoci"];
    protected override string[] RunRunc => ["run", "--runtime", "runc"];

    [Test] public Task RunRemove_OutputAndProcessSettingsAndExitCode_Docker() => RunRemove_OutputAndProcessSettingsAndExitCode();
    [Test] public Task Detached_LogsExecKillTopPauseUpdateRestartRemove_Docker() => Detached_LogsExecKillTopPauseUpdateRestartRemove();
    [Test] public Task Stop_TermThenKillAfterTimeout_Docker() => Stop_TermThenKillAfterTimeout();
    [Test] public Task Terminal_RunItAndExecIt_Docker() => Terminal_RunItAndExecIt();
    [Test] public Task ReadOnlyRoot_WithTmpfs_Docker() => ReadOnlyRoot_WithTmpfs();
    [Test, KnownBug(Gaps.HostBinds)] public Task BindMount_ReadAndWriteFromBothSides_Docker() => BindMount_ReadAndWriteFromBothSides();
    [Test, KnownBug(Gaps.Rlimits)] public Task Ulimit_Applied_Docker() => Ulimit_Applied();
    [Test, KnownBug(Gaps.Capabilities)] public Task Capabilities_DropAllAddTwo_Docker() => Capabilities_DropAllAddTwo();
    [Test] public Task FailedStart_ShowsClearOciErrorWithRuncExitCode_Docker() => FailedStart_ShowsClearOciErrorWithRuncExitCode();

    /// <summary>
    /// Docker's prestart hook `libnetwork-setkey` (issue 3) runs and succeeds: the create goes
    /// through and libnetwork has given the sandbox its bridge address.
    /// </summary>
    [Test]
    public async Task DefaultBridge_LibnetworkSetkeyHookSucceeds()
    {
        string name = await StartLooperAsync();
        string ip = await InspectAsync(name, "{{.NetworkSettings.IPAddress}}");
        Assert.That(ip, Does.Match(@"^172\.17\.\d+\.\d+$"), "an address on docker0, set once the hook told dockerd the sandbox's netns");
    }

    /// <summary>
    /// runc's single-value `update` flags on a container docker started (state under docker's
    /// exec-root): the new memory limit is live in the guest (`events --stats`).
    /// </summary>
    [Test]
    public async Task RuncStyleUpdateFlags_AppliedLive()
    {
        string name = await StartLooperAsync();
        string id = await InspectAsync(name, "{{.Id}}");
        const string root = "/run/docker/runtime-runc/moby";
        Ok(await Env.InNamespaces(Cli.Binary, "--root", root, "update", "--memory", "96m", "--memory-swap", "-1", "--cpu-quota", "50000", "--cpu-period", "100000", "--pids-limit", "50", id));
        var stats = Ok(await Env.InNamespaces(Cli.Binary, "--root", root, "events", "--stats", id));
        Assert.That(stats.Stdout, Does.Contain("\"limit\":100663296"), $"96 MiB is the guest's memory limit: {stats}");
        var bad = await Env.InNamespaces(Cli.Binary, "--root", root, "update", "--memory", "12q", id);
        Assert.That(bad.ExitCode, Is.EqualTo(1), bad.ToString());
        Assert.That(bad.Stderr, Does.Contain("--memory 12q: expected a size"), bad.ToString());
    }
}

/// <summary>Docker networking with ClearOci: published ports, --network none, a user-defined network.</summary>
[TestFixture]
public sealed class DockerNetworkTests : EngineScenarios
{
    protected override string EngineName => "docker";
    protected override string[] RunClearOci => ["run", "--runtime", "clearoci"];
    protected override string[] RunRunc => ["run", "--runtime", "runc"];

    /// <summary>`-p 127.0.0.1:18080:80` of busybox httpd answers an HTTP request from the host side (the engines' netns).</summary>
    [Test]
    public async Task PublishedPort_HttpdAnswersFromHost()
    {
        string name = NewName();
        Ok(await Run("-d", "--name", name, "-p", "127.0.0.1:18080:80", Image, "sh", "-c", Httpd));
        await WaitForHttpAsync("http://127.0.0.1:18080/", "hello-from-httpd");
    }

    /// <summary>`--network none`: only `lo`, and it is up.</summary>
    [Test]
    public async Task NetworkNone_OnlyLoopback()
    {
        var r = Ok(await Run("--rm", "--network", "none", Image, "sh", "-c", "ip -o link; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo lo-answers"));
        var links = r.Stdout.Split('\n').Where(l => l.Contains(": <")).ToList();
        Assert.That(links, Has.Count.EqualTo(1).And.All.Contain(": lo:"), r.ToString());
        Assert.That(r.Stdout, Does.Contain("lo-answers"), r.ToString());
    }

    /// <summary>Two containers on one user-defined network: the client reaches the server by its name.</summary>
    [Test]
    public async Task UserDefinedNetwork_ContainersReachEachOtherByName()
    {
        string net = NewName("net");
        Ok(await Engine("network", "create", net));
        try
        {
            string server = NewName("srv");
            Ok(await Run("-d", "--name", server, "--network", net, Image, "sh", "-c", Httpd));
            // The client polls (bounded) until the server's httpd is up.
            var r = await Run("--rm", "--network", net, Image, "sh", "-c",
                $"i=0; while [ $i -lt 60 ]; do wget -qO- -T 2 http://{server}/ && exit 0; i=$((i+1)); sleep 0.5; done; exit 1");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
            Assert.That(r.Stdout, Does.Contain("hello-from-httpd"), r.ToString());
            Ok(await Engine("rm", "-f", server));
        }
        finally { await Engine("network", "rm", net); }
    }
}
