using System.Text;

namespace ClearOci.Spec;

/// <summary>Container ids as runc accepts them: they name a directory under the state root.</summary>
public static class ContainerId
{
    public const int MaxLength = 1024;

    /// <summary>Throws <see cref="ErrorCode.InvalidArgument"/> unless <paramref name="id"/> is a valid container id.</summary>
    public static void Validate(string? id)
    {
        if (Check(id) is { } problem)
            throw ClearOciException.Invalid($"invalid container id {Text.Quote(id, 64)}: {problem}");
    }

    public static bool IsValid(string? id) => Check(id) is null;

    private static string? Check(string? id)
    {
        if (string.IsNullOrEmpty(id)) return "must not be empty";
        if (id.Length > MaxLength) return $"is {id.Length} characters long; the limit is {MaxLength}";
        if (id is "." or "..") return "must not be \".\" or \"..\"";
        if (id[0] == '-') return "must not begin with '-' (runc reads it as a flag, and so would every verb after it)";
        for (int i = 0; i < id.Length; i++)
        {
            char c = id[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '-' or '.') continue;
            Rune.DecodeFromUtf16(id.AsSpan(i), out Rune r, out _);
            string what = c == '/' ? "path separator '/'"
                : Rune.IsControl(r) || Rune.IsWhiteSpace(r) ? $"character U+{r.Value:X4}"
                : $"character '{r}'";
            return $"{what} at position {i + 1} is not allowed (use only letters, digits, '_', '+', '-' and '.')";
        }
        return null;
    }
}
