using System.Text.Json;
using System.Text.RegularExpressions;
using ClearOci.Cli;

namespace ClearOci.Tests;

public class ErrorLogTests
{
    private static readonly DateTimeOffset When = new DateTimeOffset(2026, 11, 26, 17, 5, 9, TimeSpan.FromHours(1)).AddTicks(1234567);
    private const string Stamp = "2026-11-26T17:05:09.1234567+01:00";
    private const string Tricky = "open \"/b/config.json\": no such file\\dir\nsecond line\t'single' <tag> & é";

    [Test]
    public void JsonLineHasLevelMsgTime()
    {
        string line = ErrorLog.Format("json", "error", Tricky, When);
        Assert.That(line, Does.EndWith("\n"));
        Assert.That(line.TrimEnd('\n'), Does.Not.Contain("\n"), "one line, even for a message with a newline");
        using var doc = JsonDocument.Parse(line);
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(keys, Is.EqualTo(new[] { "level", "msg", "time" }));
        Assert.That(doc.RootElement.GetProperty("level").GetString(), Is.EqualTo("error"));
        Assert.That(doc.RootElement.GetProperty("msg").GetString(), Is.EqualTo(Tricky), "quotes, backslashes and control characters escaped and decodable");
        Assert.That(doc.RootElement.GetProperty("time").GetString(), Is.EqualTo(Stamp));
        Assert.That(DateTimeOffset.Parse(Stamp), Is.EqualTo(When));
        Assert.That(line, Does.Contain($"\"time\":\"{Stamp}\""), "the time unescaped: Go's time.Time (containerd's shim) parses its raw bytes");
    }

    [TestCase("text")]
    [TestCase(null)]
    [TestCase("")]
    public void TextLineIsLogrusStyle(string? format)
    {
        string line = ErrorLog.Format(format, "error", Tricky, When);
        var m = Regex.Match(line, "^time=\"(?<time>[^\"]*)\" level=error msg=(?<msg>\"(?:[^\"\\\\\\n]|\\\\.)*\")\n$");
        Assert.That(m.Success, Is.True, $"unexpected line: {line}");
        Assert.That(m.Groups["time"].Value, Is.EqualTo(Stamp));
        // The quoted msg decodes back to the message (it is a JSON/Go string literal).
        using var doc = JsonDocument.Parse(m.Groups["msg"].Value);
        Assert.That(doc.RootElement.GetString(), Is.EqualTo(Tricky));
    }

    [Test]
    public void SimpleTextLine() =>
        Assert.That(ErrorLog.Format("text", "warning", "container not running", When),
            Is.EqualTo($"time=\"{Stamp}\" level=warning msg=\"container not running\"\n"));

    [Test]
    public void ReportAppendsToTheLogFile()
    {
        using var dir = new TempDir();
        string log = dir.Combine("log.json");
        var stderr = ErrorLog.Stderr;
        var captured = new StringWriter { NewLine = "\n" };
        ErrorLog.Stderr = captured;
        try
        {
            ErrorLog.Report(log, "json", "first");
            ErrorLog.Report(log, "json", "second \"quoted\"");
        }
        finally { ErrorLog.Stderr = stderr; }
        var lines = File.ReadAllLines(log);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()), Is.EqualTo(new[] { "first", "second \"quoted\"" }));
        Assert.That(captured.ToString(), Is.EqualTo("clearoci: first\nclearoci: second \"quoted\"\n"));
    }
}

public class VersionTextTests
{
    [Test]
    public void ThreeLinesAsRuncPrintsThem()
    {
        var lines = App.VersionText().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(4), "three lines and a final newline");
        Assert.That(lines[0], Does.Match(@"^clearoci version \d+\.\d+\.\d+"));
        Assert.That(lines[1], Does.Match(@"^commit: \S+$"));
        Assert.That(lines[2], Does.Match(@"^spec: \d+\.\d+\.\d+$"));
        Assert.That(lines[3], Is.Empty);
    }
}

public class ErrorLogQuoteTests
{
    [TestCase("plain", "\"plain\"")]
    [TestCase("a \"quoted\" word", "\"a \\\"quoted\\\" word\"")]
    [TestCase("back\\slash", "\"back\\\\slash\"")]
    [TestCase("two\nlines", "\"two\\nlines\"")]
    public void Quote_EscapesAsGoDoes(string message, string expected) =>
        Assert.That(ErrorLog.Quote(message), Is.EqualTo(expected));
}
