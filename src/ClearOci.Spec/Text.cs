using System.Text;

namespace ClearOci.Spec;

/// <summary>Formatting of user-supplied values inside error messages.</summary>
internal static class Text
{
    /// <summary>Double-quotes a value, escaping quotes, backslashes and control characters, so that
    /// whatever a user wrote shows unambiguously in one line.</summary>
    public static string Quote(string? value, int maxLength = 256)
    {
        value ??= "";
        var sb = new StringBuilder(value.Length + 2).Append('"');
        int n = Math.Min(value.Length, maxLength);
        for (int i = 0; i < n; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (char.IsControl(c)) sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        if (n < value.Length) sb.Append("...");
        return sb.Append('"').ToString();
    }

    /// <summary>Escapes control characters (newlines above all) so that a message stays on one line.</summary>
    public static string OneLine(string text)
    {
        if (!text.Any(char.IsControl)) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (c == '\n') sb.Append("\\n");
            else if (char.IsControl(c)) sb.Append("\\u").Append(((int)c).ToString("x4"));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>"a, b or c".</summary>
    public static string OneOf(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];
}
