namespace ClearOci.Vmm;

/// <summary>
/// vsock wiring: QEMU gets the vhost-vsock fd (its CID already claimed by the runtime), the guest
/// connects to the host's two listening ports, which it learns from the kernel command line.
/// </summary>
public sealed record VsockChannel(int VhostFd, uint GuestCid, uint ControlPort, uint IoPort);
