namespace ClearOci.Vmm;

/// <summary>
/// How the guest finds its two channels: the names of the virtio-serial ports, and the kernel
/// argument that tells it the host's vsock ports. The agent protocol names them; the runtime passes them in.
/// </summary>
public sealed record GuestChannelNames(string ControlPort, string IoPort, string VsockKernelArg);
