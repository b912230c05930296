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
    [Test] public Task BindMount_ReadAndWriteFromBothSides_Docker() => BindMount_ReadAndWriteFromBothSides();
    [Test] public Task Ulimit_Applied_Docker() => Ulimit_Applied();
    [Test] public Task Capabilities_DropAllAddTwo_Docker() => Capabilities_DropAllAddTwo();
    [Test] public Task FailedStart_ShowsClearOciErrorWithRuncExitCode_Docker() => FailedStart_ShowsClearOciErrorWithRuncExitCode();
    /// <summary>Docker's embedded DNS answers on 127.0.0.11 in the container's namespace: reached through the DNS relay.</summary>
    [Test] public Task UserDefinedNetwork_ContainersReachEachOtherByName_Docker() => UserDefinedNetwork_ContainersReachEachOtherByName();

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
    /// exec-root): a 48 MiB allocation that fits before `update --memory 32m` is OOM-killed after.
    /// </summary>
    [Test]
    public async Task RuncStyleUpdateFlags_AppliedLive()
    {
        string name = await StartLooperAsync();
        string id = await InspectAsync(name, "{{.Id}}");
        const string root = "/run/docker/runtime-runc/moby";
        string[] allocate = ["exec", name, "dd", "if=/dev/zero", "of=/dev/null", "bs=48M", "count=1"];
        Ok(await Engine(allocate));
        Ok(await Env.InNamespaces(Cli.Binary, "--root", root, "update", "--memory", "32m", "--memory-swap", "-1", "--cpu-quota", "50000", "--cpu-period", "100000", "--pids-limit", "50", id));
        var after = await Engine(allocate);
        Assert.That(after.ExitCode, Is.EqualTo(137), $"48 MiB no longer fits in 32 MiB: {after}");
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

    /// <summary>`--network none`: the same interfaces as with runc (only `lo`), and `lo` is up.</summary>
    [Test]
    public async Task NetworkNone_OnlyLoopback()
    {
        const string script = "ip -o link | cut -d: -f2 | tr -d ' ' | sort | tr '\\n' ' '; echo; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo lo-answers";
        var runc = Ok(await Engine([.. RunRunc, "--rm", "--network", "none", Image, "sh", "-c", script]));
        Assert.That(runc.Stdout, Does.StartWith("lo \n").And.Contain("lo-answers"), $"runc: {runc}");
        var r = Ok(await Run("--rm", "--network", "none", Image, "sh", "-c", script));
        Assert.That(r.Stdout, Is.EqualTo(runc.Stdout), $"the same as runc: {r}");
    }
}
