namespace ClearOci.Vmm;

/// <summary>The host ends of a VM's two agent channels: control messages and io frames.</summary>
public sealed record GuestChannels(Stream Control, Stream Io);
