namespace ClearOci.Client;

/// <summary>--debug messages: off by default; the CLI points them at --log or stderr.</summary>
public static class DebugLog
{
    public static Action<string>? Sink { get; set; }

    private static readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>Writes the message with the milliseconds since this process started.</summary>
    public static void Write(string message) => Sink?.Invoke($"[{Clock.ElapsedMilliseconds,6} ms] {message}");
}
