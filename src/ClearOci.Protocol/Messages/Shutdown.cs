namespace ClearOci.Protocol;

/// <summary>Power the VM off once every stream is flushed.</summary>
public sealed record Shutdown : Message;
