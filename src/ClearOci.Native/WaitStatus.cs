namespace ClearOci.Native;

/// <summary>Decodes waitpid statuses the way shells and runc report them.</summary>
public static class WaitStatus
{
    public static bool Exited(int status) => (status & 0x7f) == 0;
    public static bool Signaled(int status) => ((status & 0x7f) + 1) >> 1 > 0 && (status & 0x7f) != 0x7f;
    public static int ExitCode(int status) => (status >> 8) & 0xff;
    public static int TermSignal(int status) => status & 0x7f;

    /// <summary>The exit code a shell would show: the exit status, or 128+N for signal N.</summary>
    public static int ToExitCode(int status) => Exited(status) ? ExitCode(status) : 128 + TermSignal(status);
}
