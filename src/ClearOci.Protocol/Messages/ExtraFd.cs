namespace ClearOci.Protocol;

/// <summary>fd number <see cref="Fd"/> in the container process, relayed over two io streams.</summary>
public sealed record ExtraFd(int Fd, uint In, uint Out);
