namespace ClearOci.EngineTests;

/// <summary>
/// Podman 4.3 with ClearOci as its default runtime (containers.conf [engine] runtime, and the
/// name listed in runtime_supports_json so conmon passes --log), private --root/--runroot/--tmpdir.
/// </summary>
[TestFixture]
public sealed class PodmanTests : EngineScenarios
{
    protected override string EngineName => "podman";
    protected override string[] RunClearOci => ["run"];
    protected override string[] RunRunc => ["run", "--runtime", "runc"];

    [Test] public Task RunRemove_OutputAndProcessSettingsAndExitCode_Podman() => RunRemove_OutputAndProcessSettingsAndExitCode();
    [Test] public Task Detached_LogsExecKillTopPauseUpdateRestartRemove_Podman() => Detached_LogsExecKillTopPauseUpdateRestartRemove();
    [Test] public Task Stop_TermThenKillAfterTimeout_Podman() => Stop_TermThenKillAfterTimeout();
    [Test] public Task Terminal_RunItAndExecIt_Podman() => Terminal_RunItAndExecIt();
    [Test] public Task ReadOnlyRoot_WithTmpfs_Podman() => ReadOnlyRoot_WithTmpfs();
    [Test] public Task BindMount_ReadAndWriteFromBothSides_Podman() => BindMount_ReadAndWriteFromBothSides();
    // Any --ulimit replaces podman's defaults, and nproc 1048576 cannot be set here (no CAP_SYS_RESOURCE).
    [Test] public Task Ulimit_Applied_Podman() => Ulimit_Applied("--ulimit", "nproc=32768:32768");
    [Test] public Task Capabilities_DropAllAddTwo_Podman() => Capabilities_DropAllAddTwo();
    [Test] public Task FailedStart_ShowsClearOciErrorWithRuncExitCode_Podman() => FailedStart_ShowsClearOciErrorWithRuncExitCode();
    /// <summary>aardvark-dns answers on the network's gateway address: reached over the mirrored veth.</summary>
    [Test] public Task UserDefinedNetwork_ContainersReachEachOtherByName_Podman() => UserDefinedNetwork_ContainersReachEachOtherByName();

    /// <summary>
    /// Podman's default network (netavark bridge, 10.88.0.0/16): the container has an address on it,
    /// and a published port answers from the host side.
    /// </summary>
    [Test]
    public async Task DefaultNetwork_AddressAndPublishedPort()
    {
        string name = NewName();
        Ok(await Run("-d", "--name", name, "-p", "127.0.0.1:18081:80", Image, "sh", "-c", Httpd));
        await WaitForHttpAsync("http://127.0.0.1:18081/", "hello-from-httpd");
        var addr = Ok(await Engine("exec", name, "ip", "-o", "-4", "addr", "show"));
        Assert.That(addr.Stdout, Does.Match(@"inet 10\.88\.\d+\.\d+/16"), addr.ToString());
    }
}
