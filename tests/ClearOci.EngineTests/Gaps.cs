namespace ClearOci.EngineTests;

/// <summary>
/// The causes behind this project's [KnownBug] markers: features other work adds (see
/// docs/KNOWN-GAPS.md), each with the failure it was seen to cause here.
/// </summary>
internal static class Gaps
{
    public const string HostBinds =
        "host bind mounts are not shared into the guest yet (agent: \"skipping bind HOSTDIR -> /data: not shared into the guest\"); " +
        "the container sees \"cat: can't open '/data/in.txt': No such file or directory\"";

    public const string Rlimits =
        "process.rlimits are not applied in the guest yet: --ulimit nofile=1024:2048 gives \"1024 4096\" (the guest's defaults)";

    public const string Capabilities =
        "process.capabilities are not applied in the guest yet: --cap-drop ALL --cap-add CHOWN --cap-add KILL gives CapEff 000001ffffffffff";
}
