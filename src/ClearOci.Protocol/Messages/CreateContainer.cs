namespace ClearOci.Protocol;

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
