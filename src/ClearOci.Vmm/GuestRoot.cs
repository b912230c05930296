namespace ClearOci.Vmm;

/// <summary>How the guest gets its root: the shared NVDIMM image (q35, DAX) or an initramfs (microvm).</summary>
public enum GuestRoot { NvdimmImage, Initramfs }
