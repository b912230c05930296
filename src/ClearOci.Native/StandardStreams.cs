using System.Text;

namespace ClearOci.Native;

/// <summary>
/// This process's fds 0-2 as streams and text writers, without System.Console. On its first use
/// .NET's Console (even OpenStandardOutput) writes the terminal's keypad-transmit sequence
/// (ESC [ ? 1 h ESC =) to the controlling terminal, also when all of stdio is redirected; a
/// runtime must not write to a terminal what nobody asked for. Each stream owns a dup of its fd.
/// </summary>
public static class StandardStreams
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    public static Stream OpenInput() => new RawFdStream(Dup(0), canRead: true, canWrite: false);
    public static Stream OpenOutput() => new RawFdStream(Dup(1), canRead: false, canWrite: true);
    public static Stream OpenError() => new RawFdStream(Dup(2), canRead: false, canWrite: true);

    /// <summary>fd 1 as text (UTF-8, no BOM, "\n"), flushed on every write.</summary>
    public static TextWriter Out { get; } = Writer(1);

    /// <summary>fd 2 as text, flushed on every write.</summary>
    public static TextWriter Error { get; } = Writer(2);

    /// <summary>All of fd 0, read to its end (e.g. `update --resources -`).</summary>
    public static byte[] ReadInput()
    {
        using var input = OpenInput();
        using var buffer = new MemoryStream();
        input.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static TextWriter Writer(int fd)
    {
        int dup = Libc.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 3);
        if (dup < 0) return TextWriter.Null; // no such fd (closed by the caller): nothing to write to
        return TextWriter.Synchronized(new StreamWriter(new RawFdStream(dup, canRead: false, canWrite: true), Utf8) { AutoFlush = true, NewLine = "\n" });
    }

    private static int Dup(int fd) => Libc.Check(Libc.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 3), $"dup fd {fd}");
}
