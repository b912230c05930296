using System.Text.Json.Serialization;

namespace ClearOci.Protocol;

/// <summary>
/// Messages of the control channel between the host and the guest agent. Requests carry an
/// <see cref="Message.Id"/> &gt; 0 and get exactly one <see cref="Response"/> with the same id;
/// events (id 0) flow from the guest unasked, and the host answers a <see cref="DnsQuery"/> event
/// with a <see cref="DnsAnswer"/> (id 0, not answered in turn). Bulk stdio never travels here (see <see cref="IoFrame"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Hello), "hello")]
[JsonDerivedType(typeof(Response), "response")]
[JsonDerivedType(typeof(CreateContainer), "create")]
[JsonDerivedType(typeof(StartProcess), "start")]
[JsonDerivedType(typeof(ExecProcess), "exec")]
[JsonDerivedType(typeof(SignalProcess), "signal")]
[JsonDerivedType(typeof(ResizeTerminal), "resize")]
[JsonDerivedType(typeof(GetStats), "stats")]
[JsonDerivedType(typeof(UpdateResources), "update")]
[JsonDerivedType(typeof(FreezeContainer), "freeze")]
[JsonDerivedType(typeof(ProcessExited), "exited")]
[JsonDerivedType(typeof(OomKilled), "oom")]
[JsonDerivedType(typeof(Shutdown), "shutdown")]
[JsonDerivedType(typeof(ConfigureNetwork), "network")]
[JsonDerivedType(typeof(DnsQuery), "dnsQuery")]
[JsonDerivedType(typeof(DnsAnswer), "dnsAnswer")]
public abstract record Message
{
    public long Id { get; init; }
}

/// <summary>First message of the agent, once it is ready. Times are the guest's CLOCK_BOOTTIME in ns.</summary>
public sealed record Hello : Message
{
    public int Version { get; init; }
    public string KernelRelease { get; init; } = "";
    public long AgentStartNs { get; init; }
    public long AgentReadyNs { get; init; }
}

public sealed record Response : Message
{
    public string? Error { get; init; }
    /// <summary>The <c>ClearOci.ErrorCode</c> name of a failure.</summary>
    public string? Code { get; init; }
    /// <summary>The guest pid of a created process.</summary>
    public int Pid { get; init; }
    /// <summary>Answer to <see cref="GetStats"/>.</summary>
    public ContainerStats? Stats { get; init; }
}

/// <summary>New linux.resources for a container's cgroup in the guest.</summary>
public sealed record UpdateResources : Message
{
    public required string ContainerId { get; init; }
    public required string ResourcesJson { get; init; }
}

/// <summary>
/// Freezes (or thaws) every process of one container with its cgroup's freezer in the guest, the
/// rest of the VM running on: a pod's container is paused alone. Answered once the kernel reports
/// the group frozen (thawed).
/// </summary>
public sealed record FreezeContainer : Message
{
    public required string ContainerId { get; init; }
    public bool Frozen { get; init; }
}

/// <summary>Resource usage of a container. With one VM per container, the guest's totals are the container's.</summary>
public sealed record GetStats : Message
{
    public required string ContainerId { get; init; }
}

public sealed record ContainerStats
{
    public ulong CpuUserNs { get; init; }
    public ulong CpuKernelNs { get; init; }
    public ulong MemoryUsageBytes { get; init; }
    public ulong MemoryLimitBytes { get; init; }
    public int Pids { get; init; }
}

/// <summary>Stream ids on the io channel for a process; 0 means none.</summary>
public sealed record StdioStreams
{
    public uint Stdin { get; init; }
    public uint Stdout { get; init; }
    public uint Stderr { get; init; }
}

/// <summary>Prepare a container and its init process; it waits for <see cref="StartProcess"/>.</summary>
public sealed record CreateContainer : Message
{
    public required string ContainerId { get; init; }
    /// <summary>The bundle's config.json, verbatim, parsed by the agent.</summary>
    public required string ConfigJson { get; init; }
    /// <summary>virtio-fs tag of the share that holds the root filesystem.</summary>
    public required string RootfsTag { get; init; }
    /// <summary>
    /// The root filesystem's path inside that share; null: the share itself. With a path, the
    /// share is mounted at <see cref="ProtocolInfo.ShareMountPoint"/>, and the sources of the
    /// config's host binds have been rewritten by the runtime to paths under it.
    /// </summary>
    public string? RootfsPath { get; init; }
    public required StdioStreams Stdio { get; init; }
    /// <summary>--preserve-fds: more fds of the container process, each relayed as a byte stream both ways.</summary>
    public List<ExtraFd>? ExtraFds { get; init; }
}

/// <summary>fd number <see cref="Fd"/> in the container process, relayed over two io streams.</summary>
public sealed record ExtraFd(int Fd, uint In, uint Out);

/// <summary>Run another process in a created or running container's namespaces, at once.</summary>
public sealed record ExecProcess : Message
{
    public required string ContainerId { get; init; }
    public required string ExecId { get; init; }
    /// <summary>The OCI process object as JSON (parsed by the agent).</summary>
    public required string ProcessJson { get; init; }
    public required StdioStreams Stdio { get; init; }
}

public sealed record StartProcess : Message
{
    public required string ContainerId { get; init; }
    public string ExecId { get; init; } = "";
}

public sealed record SignalProcess : Message
{
    public required string ContainerId { get; init; }
    public string ExecId { get; init; } = "";
    public int Signal { get; init; }
}

/// <summary>A process's terminal changed size on the host.</summary>
public sealed record ResizeTerminal : Message
{
    public required string ContainerId { get; init; }
    public string ExecId { get; init; } = "";
    public ushort Rows { get; init; }
    public ushort Cols { get; init; }
}

/// <summary>Event: a process ended. Status is the shell form: exit code, or 128+N for signal N.</summary>
public sealed record ProcessExited : Message
{
    public required string ContainerId { get; init; }
    public string ExecId { get; init; } = "";
    public int Status { get; init; }
    public long ExitedNs { get; init; }
}

/// <summary>
/// Event: the kernel's OOM killer ended a process of the container (its cgroup's
/// memory.events oom_kill counter went up). Sent once per kill, before that process's
/// <see cref="ProcessExited"/>.
/// </summary>
public sealed record OomKilled : Message
{
    public required string ContainerId { get; init; }
}

/// <summary>
/// The guest's network, as the container's network namespace on the host has it: each interface
/// (found in the guest by its MAC) gets its host name, MTU, addresses and routes; lo comes up.
/// The container uses the guest's own network namespace. Sent once, before the container is created.
/// </summary>
public sealed record ConfigureNetwork : Message
{
    public List<GuestInterface> Interfaces { get; init; } = [];

    /// <summary>
    /// Loopback nameservers of the container's resolv.conf ("127.0.0.11", docker's embedded DNS):
    /// they listen in the namespace on the host, which the guest's own lo cannot reach. The agent
    /// serves each on the guest's lo (port 53, UDP and TCP) and relays the queries to the host
    /// (<see cref="DnsQuery"/>).
    /// </summary>
    public List<string> DnsRelay { get; init; } = [];

    // Value equality over the lists' items, as for every other message.
    public bool Equals(ConfigureNetwork? other) => other is not null && base.Equals(other) && Interfaces.SequenceEqual(other.Interfaces)
        && DnsRelay.SequenceEqual(other.DnsRelay);
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Interfaces.Count, DnsRelay.Count);
}

/// <summary>
/// Event: a DNS query a container sent to a relayed nameserver (<see cref="ConfigureNetwork.DnsRelay"/>),
/// for the host to ask that nameserver in the container's namespace on the host. <see cref="Data"/> is
/// the DNS message as sent over UDP (without TCP's length prefix, also when <see cref="Tcp"/>).
/// </summary>
public sealed record DnsQuery : Message
{
    /// <summary>The guest's number for this query, unique while the VM runs.</summary>
    public long Query { get; init; }
    public required string Server { get; init; }
    /// <summary>The container asked over TCP (a truncated UDP answer's retry): ask the same way.</summary>
    public bool Tcp { get; init; }
    public byte[] Data { get; init; } = [];

    public bool Equals(DnsQuery? other) => other is not null && base.Equals(other) && Query == other.Query && Server == other.Server
        && Tcp == other.Tcp && Data.AsSpan().SequenceEqual(other.Data);
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Query, Server, Data.Length);
}

/// <summary>The nameserver's answer to <see cref="DnsQuery"/> <see cref="Query"/>; empty: none came (the guest drops the query).</summary>
public sealed record DnsAnswer : Message
{
    public long Query { get; init; }
    public byte[] Data { get; init; } = [];

    public bool Equals(DnsAnswer? other) => other is not null && base.Equals(other) && Query == other.Query && Data.AsSpan().SequenceEqual(other.Data);
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Query, Data.Length);
}

/// <summary>One NIC. Addresses are CIDR ("10.88.0.5/16", "fd00::5/64").</summary>
public sealed record GuestInterface
{
    public required string Name { get; init; }
    public required string Mac { get; init; }
    public int Mtu { get; init; }
    public List<string> Addresses { get; init; } = [];
    public List<GuestRoute> Routes { get; init; } = [];

    public bool Equals(GuestInterface? other) => other is not null && Name == other.Name && Mac == other.Mac && Mtu == other.Mtu
        && Addresses.SequenceEqual(other.Addresses) && Routes.SequenceEqual(other.Routes);
    public override int GetHashCode() => HashCode.Combine(Name, Mac, Mtu);
}

/// <summary>A route through the interface: Destination is CIDR or "default"; no Gateway means on-link.</summary>
public sealed record GuestRoute(string Destination, string? Gateway);

/// <summary>Power the VM off once every stream is flushed.</summary>
public sealed record Shutdown : Message;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(Message))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;

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
