using System.Text.Json;

namespace ClearOci.Spec;

/// <summary>
/// JSON paths in the form System.Text.Json reports them (<c>$.linux.namespaces[2].type</c>,
/// <c>$.annotations['io.x']</c>), and finding where such a path's value starts in a document.
/// </summary>
internal static class JsonPath
{
    internal readonly record struct Segment(string? Name, int Index);

    /// <summary>Where a path points in a document. <see cref="Exact"/> is false when only an ancestor
    /// exists (the path names something missing); the location is then the ancestor's.</summary>
    internal readonly record struct Location(long Offset, JsonTokenType Token, string? RawNumber, bool Exact);

    public static string Property(string parent, string name)
    {
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-')
                return $"{parent}['{name.Replace("\\", "\\\\").Replace("'", "\\'")}']";
        }
        return $"{parent}.{name}";
    }

    public static string Index(string parent, int index) => $"{parent}[{index}]";

    /// <summary>Parses a path; null when it is not in the expected form.</summary>
    public static List<Segment>? Parse(string path)
    {
        if (!path.StartsWith('$')) return null;
        var segments = new List<Segment>();
        int i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int end = i + 1;
                while (end < path.Length && path[end] is not '.' and not '[') end++;
                if (end == i + 1) return null;
                segments.Add(new Segment(path[(i + 1)..end], -1));
                i = end;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                var name = new System.Text.StringBuilder();
                int j = i + 2;
                for (; j < path.Length; j++)
                {
                    if (path[j] == '\\' && j + 1 < path.Length) { name.Append(path[++j]); continue; }
                    if (path[j] == '\'' && j + 1 < path.Length && path[j + 1] == ']') break;
                    name.Append(path[j]);
                }
                if (j >= path.Length) return null;
                segments.Add(new Segment(name.ToString(), -1));
                i = j + 2;
            }
            else if (path[i] == '[')
            {
                int close = path.IndexOf(']', i);
                if (close < 0 || !int.TryParse(path.AsSpan(i + 1, close - i - 1), out int index) || index < 0) return null;
                segments.Add(new Segment(null, index));
                i = close + 1;
            }
            else return null;
        }
        return segments;
    }

    /// <summary>Finds the value at <paramref name="path"/>, or the deepest ancestor that exists. The document
    /// must be syntactically valid. Null only if the path cannot be parsed.</summary>
    public static Location? Locate(ReadOnlySpan<byte> utf8, string path)
    {
        if (Parse(path) is not { } segments) return null;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read()) return null;
            return Descend(ref reader, segments, 0);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Location Descend(ref Utf8JsonReader reader, List<Segment> segments, int depth)
    {
        var here = new Location(reader.TokenStartIndex, reader.TokenType, RawNumber(ref reader), depth == segments.Count);
        if (depth == segments.Count) return here;

        Segment segment = segments[depth];
        if (segment.Name is { } name && reader.TokenType == JsonTokenType.StartObject)
        {
            // The last occurrence of a duplicated key is the one the serializer keeps.
            Location? found = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool match = reader.ValueTextEquals(name);
                reader.Read();
                if (match)
                {
                    var probe = reader;
                    found = Descend(ref probe, segments, depth + 1);
                }
                reader.Skip();
            }
            return found ?? here;
        }
        if (segment.Name is null && reader.TokenType == JsonTokenType.StartArray)
        {
            int index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (index++ == segment.Index) return Descend(ref reader, segments, depth + 1);
                reader.Skip();
            }
        }
        return here;
    }

    private static string? RawNumber(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.Number) return null;
        return System.Text.Encoding.UTF8.GetString(reader.ValueSpan); // a span-based reader has no sequences
    }

    /// <summary>1-based line and column (in characters) of a byte offset.</summary>
    public static (int Line, int Column) LineColumn(ReadOnlySpan<byte> utf8, long offset)
    {
        offset = Math.Clamp(offset, 0, utf8.Length);
        int line = 1, column = 1;
        for (int i = 0; i < offset; i++)
        {
            byte b = utf8[i];
            if (b == (byte)'\n') { line++; column = 1; }
            else if ((b & 0xC0) != 0x80) column++; // count characters, not UTF-8 continuation bytes
        }
        return (line, column);
    }

    /// <summary>Byte offset of a (0-based line, 0-based byte in line) position, as JsonException reports it.</summary>
    public static long Offset(ReadOnlySpan<byte> utf8, long lineNumber, long bytePositionInLine)
    {
        long line = 0;
        int i = 0;
        while (line < lineNumber && i < utf8.Length)
        {
            if (utf8[i++] == (byte)'\n') line++;
        }
        return Math.Min(utf8.Length, i + bytePositionInLine);
    }
}
