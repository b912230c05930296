using ClearOci.Runtime;
using ClearOci.Spec;

namespace ClearOci.LifecycleTests;

/// <summary>No VM: process identity, the transition table, signal names.</summary>
[TestFixture, Category("Unit")]
public sealed class ProcessIdentityTests
{
    /// <summary>A /proc/PID/stat line: pid, (comm), then fields 3..52 with field 22 (starttime) = <paramref name="start"/>.</summary>
    private static string StatLine(int pid, string comm, ulong start)
    {
        var fields = Enumerable.Range(3, 50).Select(n => n switch
        {
            3 => "S",
            4 => "1",   // ppid
            22 => start.ToString(),
            _ => (n * 11).ToString(),
        });
        return $"{pid} ({comm}) {string.Join(' ', fields)}\n";
    }

    [TestCase("sh")]
    [TestCase("my prog")]
    [TestCase("a) b (c")]
    [TestCase(") S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20")]
    [TestCase("x)")]
    public void ParseStartTime_ReadsField22WhateverTheCommandName(string comm)
    {
        Assert.That(ProcessIdentity.ParseStartTime(StatLine(4242, comm, 987654321UL)), Is.EqualTo(987654321UL));
    }

    [Test]
    public void ParseStartTime_OfARealProcess_MatchesStartTime()
    {
        string stat = File.ReadAllText($"/proc/{Environment.ProcessId}/stat");
        Assert.That(ProcessIdentity.ParseStartTime(stat), Is.EqualTo(ProcessIdentity.StartTime(Environment.ProcessId)));
        Assert.That(ProcessIdentity.StartTime(Environment.ProcessId), Is.GreaterThan(0UL));
    }

    [Test]
    public void IsAlive_TrueForItself_FalseForAnotherStartTime()
    {
        int self = Environment.ProcessId;
        ulong start = ProcessIdentity.StartTime(self);
        Assert.Multiple(() =>
        {
            Assert.That(ProcessIdentity.IsAlive(self, start), Is.True);
            Assert.That(ProcessIdentity.IsAlive(self, start + 1), Is.False, "same pid, other start time: a reused pid");
            Assert.That(ProcessIdentity.IsAlive(self, start - 1), Is.False);
            Assert.That(ProcessIdentity.IsAlive(self, 0), Is.False);
        });
    }

    [Test]
    public void IsAlive_FalseForAMissingPid()
    {
        int max = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim());
        int pid = Enumerable.Range(0, 1000).Select(i => max - 1 - i).First(p => !Directory.Exists($"/proc/{p}"));
        Assert.That(ProcessIdentity.StartTime(pid), Is.EqualTo(0UL));
        Assert.That(ProcessIdentity.IsAlive(pid, 12345), Is.False);
    }
}

[TestFixture, Category("Unit")]
public sealed class TransitionTests
{
    private const string Id = "ctr";

    private static readonly Dictionary<string, Action<Status>> Verbs = new()
    {
        ["start"] = Transitions.CheckStart,
        ["kill"] = Transitions.CheckKill,
        ["pause"] = Transitions.CheckPause,
        ["resume"] = Transitions.CheckResume,
        ["delete"] = s => Transitions.CheckDelete(Id, s),
    };

    /// <summary>
    /// null: allowed; else the message (runc's wording). Note: runc's `delete` without --force also
    /// removes a CREATED container (see RuncComparisonTests), and `pause` accepts a created one,
    /// as in runc; the table records clearoci's rules.
    /// </summary>
    private static readonly object?[][] Table =
    [
        [Status.Creating, "start", "cannot start a container that is still being created"],
        [Status.Created, "start", null],
        [Status.Running, "start", "cannot start an already running container"],
        [Status.Paused, "start", "cannot start a paused container"],
        [Status.Stopped, "start", "cannot start a container that has stopped"],

        [Status.Creating, "kill", "container not running"],
        [Status.Created, "kill", null],
        [Status.Running, "kill", null],
        [Status.Paused, "kill", null],
        [Status.Stopped, "kill", "container not running"],

        [Status.Creating, "pause", "container not running"],
        [Status.Created, "pause", null], // as runc: resume makes it created again
        [Status.Running, "pause", null],
        [Status.Paused, "pause", "container is already paused"],
        [Status.Stopped, "pause", "container not running"],

        [Status.Creating, "resume", "container not paused"],
        [Status.Created, "resume", "container not paused"],
        [Status.Running, "resume", "container not paused"],
        [Status.Paused, "resume", null],
        [Status.Stopped, "resume", "container not paused"],

        [Status.Creating, "delete", "cannot delete container ctr that is not stopped: creating"],
        [Status.Created, "delete", null], // as runc: the process never ran, so delete kills it
        [Status.Running, "delete", "cannot delete container ctr that is not stopped: running"],
        [Status.Paused, "delete", "cannot delete container ctr that is not stopped: paused"],
        [Status.Stopped, "delete", null],
    ];

    [Test]
    public void Table_CoversEveryStatusAndVerb()
    {
        var covered = Table.Select(r => ((Status)r[0]!, (string)r[1]!)).ToHashSet();
        foreach (var s in Enum.GetValues<Status>())
            foreach (var v in Verbs.Keys)
                Assert.That(covered, Does.Contain((s, v)), $"{s} x {v}");
    }

    [TestCaseSource(nameof(Table))]
    public void Transition(Status status, string verb, string? error)
    {
        if (error is null)
        {
            Assert.DoesNotThrow(() => Verbs[verb](status));
            return;
        }
        var e = Assert.Throws<ClearOciException>(() => Verbs[verb](status))!;
        Assert.That(e.Code, Is.EqualTo(ErrorCode.InvalidState));
        Assert.That(e.Message, Is.EqualTo(error));
    }

    [Test]
    public void Names_AreTheOciStatuses()
    {
        Assert.That(Enum.GetValues<Status>().Select(Transitions.Name),
            Is.EqualTo(new[] { "creating", "created", "running", "paused", "stopped" }));
    }
}

[TestFixture, Category("Unit")]
public sealed class SignalNameTests
{
    [TestCase("9", 9)]
    [TestCase("KILL", 9)]
    [TestCase("SIGKILL", 9)]
    [TestCase("kill", 9)]
    [TestCase("sigusr1", 10)]
    [TestCase("USR1", 10)]
    [TestCase("10", 10)]
    [TestCase("SIGTERM", 15)]
    [TestCase("TERM", 15)]
    [TestCase("hup", 1)]
    [TestCase("SigWinch", 28)]
    [TestCase("SYS", 31)]
    [TestCase("1", 1)]
    [TestCase("64", 64)]
    public void Parse_Accepted(string text, int expected) => Assert.That(SignalNames.Parse(text), Is.EqualTo(expected));

    [TestCase("")]
    [TestCase("0")]
    [TestCase("65")]
    [TestCase("-9")]
    [TestCase("SIG")]
    [TestCase("SIGFOO")]
    [TestCase("FOO")]
    [TestCase("SIGSIGKILL")]
    [TestCase("9x")]
    [TestCase(" KILL")]
    public void Parse_Refused(string text)
    {
        var e = Assert.Throws<ClearOciException>(() => SignalNames.Parse(text))!;
        Assert.That(e.Code, Is.EqualTo(ErrorCode.InvalidArgument));
    }
}
