namespace ClearOci.Protocol;

/// <summary>What the host and the agent agree on besides the messages: the version, how the guest finds the channels, where shares are mounted.</summary>
public static class ProtocolInfo
{
    public const int Version = 1;
    /// <summary>Names of the virtio-serial ports (and vsock ports) of the two channels.</summary>
    public const string ControlPortName = "org.clearoci.control";
    public const string IoPortName = "org.clearoci.io";
    /// <summary>Kernel argument naming the host's vsock ports: clearoci.vsock=CONTROL,IO.</summary>
    public const string VsockKernelArg = "clearoci.vsock";

    /// <summary>Where the guest mounts the virtio-fs share with tag <paramref name="tag"/>.</summary>
    public static string ShareMountPoint(string tag) => $"/run/clearoci/shares/{tag}";
}
