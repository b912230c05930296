using System.Buffers;
using System.Text;
using System.Text.Json;
using ClearOci.Native;

namespace ClearOci.Cli;

/// <summary>
/// The one place errors reach the user: stderr, and a line in runc's log format appended to
/// --log (docker and podman show that line's msg to the user).
/// </summary>
public static class ErrorLog
{
    /// <summary>Where the user reads errors: fd 2 (tests put a writer of their own here).</summary>
    public static TextWriter Stderr { get; set; } = StandardStreams.Error;

    public static void Report(string? logPath, string? format, string message)
    {
        Stderr.WriteLine($"clearoci: {message}");
        if (!string.IsNullOrEmpty(logPath)) Append(logPath, Format(format, "error", message, DateTimeOffset.Now));
    }

    public static void Append(string logPath, string line)
    {
        try
        {
            File.AppendAllText(logPath, line);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Stderr.WriteLine($"clearoci: cannot write log {logPath}: {e.Message}");
        }
    }

    /// <summary>Go's strconv.Quote for the common cases: backslash, quote and control characters escaped.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\t' => "\\t", '\r' => "\\r",
                < ' ' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }

    /// <summary>One log line (pure): json {"level","msg","time"} or logrus-style text.</summary>
    public static string Format(string? format, string level, string message, DateTimeOffset time)
    {
        string stamp = time.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz");
        if (format == "json")
        {
            var buffer = new ArrayBufferWriter<byte>();
            // Relaxed: the default encoder writes '+' as \u002B, and Go's time.Time parses the raw
            // bytes of "time" (docker then says "unable to retrieve OCI runtime error").
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartObject();
                w.WriteString("level", level);
                w.WriteString("msg", message);
                w.WriteString("time", stamp);
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
        }
        return $"time=\"{stamp}\" level={level} msg={Quote(message)}\n";
    }
}


