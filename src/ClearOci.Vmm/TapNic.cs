namespace ClearOci.Vmm;

/// <summary>A NIC of the VM: QEMU's fd number of an open tap (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR) and the guest's MAC.</summary>
public sealed record TapNic(int Fd, string Mac);
