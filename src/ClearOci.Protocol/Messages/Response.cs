namespace ClearOci.Protocol;

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
