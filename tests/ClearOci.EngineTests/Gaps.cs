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

    public const string LoopbackDown =
        "--network none: lo is down in the guest (\"ping: sendto: Network is unreachable\") and the guest kernel adds sit0@NONE " +
        "(CONFIG_IPV6_SIT); runc shows only lo, up";

    public const string PublishedPort =
        "the container's veth is not in the VM yet: GET http://127.0.0.1:PORT/ through docker-proxy gives " +
        "ConnectionRefusedError(111) (the same set-up with --runtime runc answers)";

    public const string NetworkByName =
        "the container's veth is not in the VM yet: \"nc: bad address 'srvN'\" (docker's embedded DNS on 127.0.0.11 and the peer are unreachable)";

    public const string PodmanNetwork =
        "the container's veth (podman's netns, joined by path) is not in the VM yet: GET http://127.0.0.1:PORT/ gives " +
        "ConnectionRefusedError(111) and the guest has no 10.88.x address (with --runtime runc: answers, eth0 10.88.0.2/16)";
}
