using ClearOci.Native;

namespace ClearOci.Client;

/// <summary>
/// The word a detached child (supervisor, pod relay, exec relay) sends its starter on a pipe:
/// 'R' when ready, or 'E' and a <see cref="WireError"/> (code and message); then the pipe closes.
/// </summary>
public static class ReadyPipe
{
    /// <summary>Reports readiness and closes <paramref name="fd"/>. The starter may be gone (killed): that is no error.</summary>
    public static void Ready(int fd)
    {
        try { Libc.WriteAll(fd, "R"u8); } catch (ClearOciException) { }
        Libc.close(fd);
    }

    /// <summary>Reports the failure (not closing <paramref name="fd"/>: the process exits next).</summary>
    public static void Fail(int fd, Exception e)
    {
        try { Libc.WriteAll(fd, [(byte)'E', .. WireError.From(e).ToJson()]); } catch (ClearOciException) { }
    }

    /// <summary>
    /// Reads the word to the end of the pipe: returns on 'R', throws the child's error on 'E', or
    /// <paramref name="diedWithoutWord"/> (a System error) when it closed the pipe without one.
    /// </summary>
    public static void Await(int fd, string diedWithoutWord)
    {
        byte[] word = Libc.ReadToEnd(fd);
        if (word is [(byte)'R']) return;
        if (word.Length > 1 && word[0] == (byte)'E') throw WireError.Parse(word.AsSpan(1)).ToException();
        throw new ClearOciException(ErrorCode.System, diedWithoutWord);
    }
}
