namespace ClearOci.Seccomp;

/// <summary>One system call of one ABI: its name as libseccomp and the OCI profiles spell it, and its number.</summary>
public readonly record struct SyscallEntry(string Name, int Number);
