using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClearOci.Spec;

/// <summary>Writing OCI records: nulls omitted, no needless escaping (<c>+</c>, <c>&lt;</c> stay as they are).</summary>
public static class SpecJson
{
    private static SpecJsonContext? s_compact, s_indented;

    private static SpecJsonContext Create(bool indented) => new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    });

    public static string Serialize(OciSpec value, bool indented = false) => JsonSerializer.Serialize(value, Context(indented).OciSpec);
    public static string Serialize(OciState value, bool indented = false) => JsonSerializer.Serialize(value, Context(indented).OciState);
    public static string Serialize(LinuxResources value, bool indented = false) => JsonSerializer.Serialize(value, Context(indented).LinuxResources);
    public static string Serialize(Process value, bool indented = false) => JsonSerializer.Serialize(value, Context(indented).Process);

    public static byte[] SerializeToUtf8Bytes(OciSpec value) => JsonSerializer.SerializeToUtf8Bytes(value, Context(false).OciSpec);
    public static byte[] SerializeToUtf8Bytes(OciState value) => JsonSerializer.SerializeToUtf8Bytes(value, Context(false).OciState);

    /// <summary>Reads a state document (as written by <see cref="Serialize(OciState, bool)"/>); errors carry the
    /// same file:line:column: path detail as config.json errors.</summary>
    public static OciState ParseState(ReadOnlySpan<byte> utf8Json, string fileName) =>
        JsonInput.Deserialize(utf8Json, fileName, SpecJsonContext.Default.OciState);

    // Created on first use (a benign race at worst builds one twice); start-up pays only for what it writes.
    private static SpecJsonContext Context(bool indented) =>
        indented ? s_indented ??= Create(indented: true) : s_compact ??= Create(indented: false);
}
