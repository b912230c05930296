using ClearOci.Client;
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

    /// <summary>
    /// Every operation in every state: the state it leads to (with the process started, where that
    /// matters), or runc's refusal. runc's `delete` without --force also removes a CREATED
    /// container and `pause` accepts a created one (see RuncComparisonTests); ps of a stopped
    /// container lists nothing.
    /// </summary>
    private static readonly object[][] Table =
    [
        [Operation.Start, Status.Creating, "cannot start a container that is still being created"],
        [Operation.Start, Status.Created, Status.Running],
        [Operation.Start, Status.Running, "cannot start an already running container"],
        [Operation.Start, Status.Paused, "cannot start a paused container"],
        [Operation.Start, Status.Stopped, "cannot start a container that has stopped"],

        [Operation.Kill, Status.Creating, "container not running"],
        [Operation.Kill, Status.Created, Status.Created],
        [Operation.Kill, Status.Running, Status.Running],
        [Operation.Kill, Status.Paused, Status.Paused],
        [Operation.Kill, Status.Stopped, "container not running"],

        [Operation.Pause, Status.Creating, "container not running"],
        [Operation.Pause, Status.Created, Status.Paused],
        [Operation.Pause, Status.Running, Status.Paused],
        [Operation.Pause, Status.Paused, "container is already paused"],
        [Operation.Pause, Status.Stopped, "container not running"],

        [Operation.Resume, Status.Creating, "container not paused"],
        [Operation.Resume, Status.Created, "container not paused"],
        [Operation.Resume, Status.Running, "container not paused"],
        [Operation.Resume, Status.Paused, Status.Running],
        [Operation.Resume, Status.Stopped, "container not paused"],

        [Operation.Update, Status.Creating, "container not running"],
        [Operation.Update, Status.Created, Status.Created],
        [Operation.Update, Status.Running, Status.Running],
        [Operation.Update, Status.Paused, Status.Paused],
        [Operation.Update, Status.Stopped, "container not running"],

        [Operation.Exec, Status.Creating, "cannot exec in a container that is still being created"],
        [Operation.Exec, Status.Created, Status.Created],
        [Operation.Exec, Status.Running, Status.Running],
        [Operation.Exec, Status.Paused, "cannot exec in a paused container"],
        [Operation.Exec, Status.Stopped, "cannot exec in a stopped container"],

        [Operation.Stats, Status.Creating, "container not running"],
        [Operation.Stats, Status.Created, Status.Created],
        [Operation.Stats, Status.Running, Status.Running],
        [Operation.Stats, Status.Paused, Status.Paused],
        [Operation.Stats, Status.Stopped, "container not running"],

        [Operation.Ps, Status.Creating, Status.Creating],
        [Operation.Ps, Status.Created, Status.Created],
        [Operation.Ps, Status.Running, Status.Running],
        [Operation.Ps, Status.Paused, Status.Paused],
        [Operation.Ps, Status.Stopped, Status.Stopped],

        [Operation.Events, Status.Creating, "container not running"],
        [Operation.Events, Status.Created, Status.Created],
        [Operation.Events, Status.Running, Status.Running],
        [Operation.Events, Status.Paused, Status.Paused],
        [Operation.Events, Status.Stopped, "container not running"],

        [Operation.Delete, Status.Creating, "cannot delete container ctr that is not stopped: creating"],
        [Operation.Delete, Status.Created, Status.Stopped], // as runc: the process never ran, so delete kills it
        [Operation.Delete, Status.Running, "cannot delete container ctr that is not stopped: running"],
        [Operation.Delete, Status.Paused, "cannot delete container ctr that is not stopped: paused"],
        [Operation.Delete, Status.Stopped, Status.Stopped],

        [Operation.Created, Status.Creating, Status.Created],
        [Operation.Created, Status.Created, "container ctr is not being created: created"],
        [Operation.Created, Status.Running, "container ctr is not being created: running"],
        [Operation.Created, Status.Paused, "container ctr is not being created: paused"],
        [Operation.Created, Status.Stopped, "container ctr is not being created: stopped"],

        [Operation.Exited, Status.Creating, Status.Stopped], // the VM died while booting
        [Operation.Exited, Status.Created, Status.Stopped],
        [Operation.Exited, Status.Running, Status.Stopped],
        [Operation.Exited, Status.Paused, Status.Stopped],
        [Operation.Exited, Status.Stopped, "container ctr has stopped already"],
    ];

    [Test]
    public void Table_CoversEveryOperationInEveryState()
    {
        var covered = Table.Select(r => ((Operation)r[0], (Status)r[1])).ToList();
        Assert.That(covered, Is.Unique);
        foreach (var op in Enum.GetValues<Operation>())
            foreach (var s in Enum.GetValues<Status>())
                Assert.That(covered, Does.Contain((op, s)), $"{op} in {s}");
    }

    [TestCaseSource(nameof(Table))]
    public void Transition(Operation op, Status status, object expected)
    {
        if (expected is Status next)
        {
            Assert.That(Transitions.Next(op, status, started: true, Id), Is.EqualTo(next));
            Assert.That(Transitions.Refusal(op, status, Id), Is.Null);
            Assert.DoesNotThrow(() => Transitions.Check(op, status, Id));
            return;
        }
        var e = Assert.Throws<ClearOciException>(() => Transitions.Next(op, status, started: true, Id))!;
        Assert.That(e.Code, Is.EqualTo(ErrorCode.InvalidState));
        Assert.That(e.Message, Is.EqualTo((string)expected));
        Assert.Throws<ClearOciException>(() => Transitions.Check(op, status, Id));
    }

    [Test]
    public void Resume_OfAContainerPausedBeforeItsStart_MakesItCreatedAgain() =>
        Assert.That(Transitions.Next(Operation.Resume, Status.Paused, started: false, Id), Is.EqualTo(Status.Created));

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
    [TestCase("0", 0)]
    public void Parse_Accepted(string text, int expected) => Assert.That(SignalNames.Parse(text), Is.EqualTo(expected));

    [TestCase("")]
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
