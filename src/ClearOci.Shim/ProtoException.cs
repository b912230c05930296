using System.Text;

namespace ClearOci.Shim;

/// <summary>Malformed protobuf or ttrpc input.</summary>
public sealed class ProtoException(string message) : FormatException(message);
