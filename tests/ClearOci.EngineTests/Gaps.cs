namespace ClearOci.EngineTests;

/// <summary>
/// The causes behind this project's [KnownBug] markers: features other work adds (see
/// docs/KNOWN-GAPS.md), each with the failure it was seen to cause here.
/// </summary>
internal static class Gaps
{
    public const string NetworkByName =
        "docker's embedded DNS listens on 127.0.0.11 in the container's network namespace on the host; the guest's own lo " +
        "does not reach it (only the veth is mirrored into the VM), so \"nc: bad address 'srvN'\"";
}
