namespace ClearOci.Client;

/// <summary>Signal arguments as runc takes them: 9, KILL or SIGKILL (any case); 0 asks whether the container runs.</summary>
public static class SignalNames
{
    private static readonly string[] Names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
        "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    public static int Parse(string text)
    {
        if (int.TryParse(text, out int n))
            return n is >= 0 and <= 64 ? n : throw ClearOciException.Invalid($"invalid signal number {text}");
        string name = text.ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal)) name = name[3..];
        int i = Array.IndexOf(Names, name);
        return i > 0 ? i : throw ClearOciException.Invalid($"unknown signal \"{text}\"");
    }
}
