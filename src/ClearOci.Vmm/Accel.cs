namespace ClearOci.Vmm;

/// <summary>How QEMU runs the guest's CPUs: with KVM, or emulated (TCG).</summary>
public enum Accel { Kvm, Tcg }
