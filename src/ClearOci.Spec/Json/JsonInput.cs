using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ClearOci.Spec;

/// <summary>
/// Deserialization with runc-like error messages: <c>file:line:column: $.json.path: expected X, got Y</c>.
/// Syntax is checked in a first pass of the reader so that syntax errors and type errors are told apart.
/// </summary>
internal static class JsonInput
{
    public static ReadOnlySpan<byte> StripBom(ReadOnlySpan<byte> utf8) =>
        utf8.StartsWith("\uFEFF"u8) ? utf8[3..] : utf8;

    public static T Deserialize<T>(ReadOnlySpan<byte> utf8, string fileName, JsonTypeInfo<T> info) where T : class
    {
        utf8 = StripBom(utf8);
        CheckSyntax(utf8, fileName);
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(utf8, info);
        }
        catch (JsonException e)
        {
            throw TypeError(utf8, fileName, e, info);
        }
        return value ?? throw Error(utf8, fileName, "$", "expected an object, got null");
    }

    /// <summary>An InvalidArgument error about the value at <paramref name="path"/>, positioned at that value
    /// (or at its nearest existing ancestor when the value is missing).</summary>
    public static ClearOciException Error(ReadOnlySpan<byte> utf8, string fileName, string path, string detail)
    {
        var location = JsonPath.Locate(utf8, path);
        var (line, column) = JsonPath.LineColumn(utf8, location?.Offset ?? 0);
        return ClearOciException.Invalid($"{fileName}:{line}:{column}: {path}: {detail}");
    }

    private static void CheckSyntax(ReadOnlySpan<byte> utf8, string fileName)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            while (reader.Read()) { }
        }
        catch (JsonException e)
        {
            long offset = JsonPath.Offset(utf8, e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
            var (line, column) = JsonPath.LineColumn(utf8, offset);
            throw ClearOciException.Invalid($"{fileName}:{line}:{column}: {SyntaxDetail(utf8, offset, e.Message)}");
        }
    }

    private static string SyntaxDetail(ReadOnlySpan<byte> utf8, long offset, string message)
    {
        int end = utf8.Length;
        while (end > 0 && utf8[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') end--;
        if (end == 0) return "unexpected end of JSON input (no JSON value)";
        if (offset >= end) return "unexpected end of JSON input";
        string text = WithoutLocation(message);
        if (text.Contains("trailing comma", StringComparison.Ordinal)) return $"invalid JSON: trailing comma before {QuoteByte(utf8[(int)offset])}";
        const string literal = "Expected the literal '";
        int at = text.IndexOf(literal, StringComparison.Ordinal);
        if (at >= 0)
        {
            // System.Text.Json quotes the whole rest of the input here; name the one offending character instead.
            string expected = text[(at + literal.Length)..].TrimEnd('.', '\'');
            return $"invalid JSON: invalid character {QuoteByte(utf8[(int)offset])} in literal {expected}";
        }
        return "invalid JSON: " + Text.OneLine(text.TrimEnd('.'));
    }

    private static string QuoteByte(byte b) =>
        b is >= 0x20 and < 0x7F ? $"'{(char)b}'" : $"byte 0x{b:x2}";

    private static ClearOciException TypeError<T>(ReadOnlySpan<byte> utf8, string fileName, JsonException e, JsonTypeInfo<T> info)
    {
        string path = string.IsNullOrEmpty(e.Path) ? "$" : e.Path;
        Type? expected = ExpectedType(info, path);
        JsonPath.Location? location = JsonPath.Locate(utf8, path);
        string detail = expected is not null && location is { Exact: true } found
            ? $"expected {Describe(expected, info.Options, plural: false)}, got {DescribeValue(found, expected)}"
            : "invalid value: " + WithoutLocation(e.Message).TrimEnd('.');
        long offset = location?.Offset ?? JsonPath.Offset(utf8, e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
        var (line, column) = JsonPath.LineColumn(utf8, offset);
        return ClearOciException.Invalid($"{fileName}:{line}:{column}: {path}: {detail}");
    }

    /// <summary>System.Text.Json appends " Path: ... | LineNumber: ..." or " LineNumber: ..."; we say it better.</summary>
    private static string WithoutLocation(string message)
    {
        foreach (string marker in (ReadOnlySpan<string>)[" Path: ", " LineNumber: "])
        {
            int at = message.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0) message = message[..at];
        }
        return message.Trim();
    }

    /// <summary>The CLR type the serializer wanted at <paramref name="path"/>, from the source-generated metadata.</summary>
    private static Type? ExpectedType(JsonTypeInfo root, string path)
    {
        if (JsonPath.Parse(path) is not { } segments) return null;
        Type type = root.Type;
        foreach (var segment in segments)
        {
            if (!root.Options.TryGetTypeInfo(type, out JsonTypeInfo? info)) return null;
            Type? next = (info.Kind, segment.Name) switch
            {
                (JsonTypeInfoKind.Object, { } name) => info.Properties.FirstOrDefault(p => p.Name == name)?.PropertyType,
                (JsonTypeInfoKind.Dictionary, not null) => info.ElementType,
                (JsonTypeInfoKind.Enumerable, null) => info.ElementType,
                _ => null,
            };
            if (next is null) return null;
            type = next;
        }
        return type;
    }

    private static string Describe(Type type, JsonSerializerOptions options, bool plural)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return plural ? "strings" : "a string";
        if (type == typeof(bool)) return plural ? "booleans" : "a boolean";
        if (IntegerRange(type) is { } range) return (plural ? "integers" : "an integer") + " between " + range;
        if (options.TryGetTypeInfo(type, out JsonTypeInfo? info) && info.ElementType is { } element)
        {
            if (info.Kind == JsonTypeInfoKind.Enumerable)
                return plural ? "arrays" : "an array of " + Describe(element, options, plural: true);
            if (info.Kind == JsonTypeInfoKind.Dictionary)
                return plural ? "objects" : "an object whose values are " + Describe(element, options, plural: true);
        }
        return plural ? "objects" : "an object";
    }

    private static string? IntegerRange(Type type) =>
        type == typeof(int) ? "-2147483648 and 2147483647"
        : type == typeof(uint) ? "0 and 4294967295"
        : type == typeof(long) ? "-9223372036854775808 and 9223372036854775807"
        : type == typeof(ulong) ? "0 and 18446744073709551615"
        : type == typeof(ushort) ? "0 and 65535"
        : null;

    private static string DescribeValue(JsonPath.Location value, Type expected) => value.Token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number when IntegerRange(Nullable.GetUnderlyingType(expected) ?? expected) is not null && value.RawNumber is { } raw
            => raw.Length <= 40 ? raw : raw[..40] + "...",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => "an unexpected value",
    };
}
