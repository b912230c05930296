using System.Net.Sockets;
using System.Text.Json;
using System.Text;
using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Runtime;
using ClearOci.Spec;
using NUnit.Framework;

namespace ClearOci.Tests;

/// <summary>The supervisor's wire: typed requests, the version check, errors with their codes, the ready pipe.</summary>
[TestFixture, Category("Unit")]
public sealed class SupervisorProtocolTests
{
    /// <summary>Each request as it travels (golden lines): "op" first, the version, then its fields.</summary>
    private static readonly object[][] Requests =
    [
        [new StartRequest(), """{"op":"start","version":1}"""],
        [new KillRequest { Signal = 9 }, """{"op":"kill","signal":9,"version":1}"""],
        [new KillRequest { Signal = 15, ExecId = "e1" }, """{"op":"kill","signal":15,"execId":"e1","version":1}"""],
        [new PauseRequest(), """{"op":"pause","version":1}"""],
        [new ResumeRequest(), """{"op":"resume","version":1}"""],
        [new UpdateRequest { ResourcesJson = "{}" }, """{"op":"update","resourcesJson":"{}","version":1}"""],
        [new StatsRequest(), """{"op":"stats","version":1}"""],
        [new PsRequest(), """{"op":"ps","version":1}"""],
        [new EventsRequest(), """{"op":"events","version":1}"""],
        [new ExecRequest { ExecId = "x", ProcessJson = "{\"args\":[\"true\"]}" }, """{"op":"exec","execId":"x","processJson":"{\u0022args\u0022:[\u0022true\u0022]}","version":1}"""],
        [new AddRequest { ContainerId = "app", Bundle = "/b", ConsoleSocket = "/s" }, """{"op":"add","containerId":"app","bundle":"/b","consoleSocket":"/s","version":1}"""],
    ];

    [TestCaseSource(nameof(Requests))]
    public void Request_HasItsGoldenLine_AndReadsBackTheSame(SupervisorRequest request, string golden)
    {
        string line = System.Text.Encoding.UTF8.GetString(SupervisorWire.Line(request)).TrimEnd('\n');
        Assert.That(line, Is.EqualTo(golden));
        var back = SupervisorWire.ReadRequest(Encoding.UTF8.GetBytes(line + "\n"));
        Assert.That(back, Is.EqualTo(request));
    }

    [Test]
    public void EveryRequestType_IsInTheGoldenTable()
    {
        var types = typeof(SupervisorRequest).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(SupervisorRequest)) && !t.IsAbstract).ToHashSet();
        Assert.That(Requests.Select(r => r[0].GetType()).ToHashSet(), Is.EquivalentTo(types));
    }

    [Test]
    public void AnotherVersion_IsRefusedAsUnsupported_NamingBoth()
    {
        var e = Assert.Throws<ClearOciException>(() => SupervisorWire.ReadRequest("""{"op":"start","version":2}"""u8))!;
        Assert.That(e.Code, Is.EqualTo(ErrorCode.Unsupported));
        Assert.That(e.Message, Does.Contain("version 1").And.Contain("version 2"));
    }

    [TestCase("""{"op":"reboot","version":1}""")]
    [TestCase("""{"version":1}""")]
    [TestCase("not json")]
    [TestCase("""{"op":"kill","signal":"nine","version":1}""")]
    [TestCase("""{"op":"exec","version":1}""")]
    [TestCase("null")]
    public void UnreadableRequests_AreInvalidArguments(string line)
    {
        var e = Assert.Throws<ClearOciException>(() => SupervisorWire.ReadRequest(Encoding.UTF8.GetBytes(line)))!;
        Assert.That(e.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        Assert.That(e.Message, Does.Contain("supervisor request"));
    }

    [Test]
    public void WireError_KeepsCodeAndMessage_AndNamesABugAsInternal()
    {
        foreach (var code in Enum.GetValues<ErrorCode>())
        {
            var back = WireError.Parse(WireError.From(new ClearOciException(code, $"m {code}")).ToJson()).ToException();
            Assert.That((back.Code, back.Message), Is.EqualTo((code, $"m {code}")));
        }
        var bug = WireError.From(new InvalidOperationException("boom"));
        Assert.That((bug.Code, bug.Message), Is.EqualTo((ErrorCode.Internal, "internal error: InvalidOperationException: boom")));
        var plain = WireError.Parse("an older supervisor's text"u8);
        Assert.That((plain.Code, plain.Message), Is.EqualTo((ErrorCode.System, "an older supervisor's text")));
    }

    [Test]
    public void ReadyPipe_CarriesTheErrorCode()
    {
        var (r, w) = Libc.Pipe();
        ReadyPipe.Fail(w, new ClearOciException(ErrorCode.NotFound, "no such thing"));
        Libc.close(w);
        var e = Assert.Throws<ClearOciException>(() => ReadyPipe.Await(r, "died"))!;
        Libc.close(r);
        Assert.That((e.Code, e.Message), Is.EqualTo((ErrorCode.NotFound, "no such thing")));
    }

    [Test]
    public void ReadyPipe_ReadyReturns_SilenceIsTheGivenSystemError()
    {
        var (r, w) = Libc.Pipe();
        ReadyPipe.Ready(w);
        Assert.DoesNotThrow(() => ReadyPipe.Await(r, "died"));
        Libc.close(r);
        (r, w) = Libc.Pipe();
        Libc.close(w);
        var e = Assert.Throws<ClearOciException>(() => ReadyPipe.Await(r, "the supervisor exited while creating the container"))!;
        Libc.close(r);
        Assert.That((e.Code, e.Message), Is.EqualTo((ErrorCode.System, "the supervisor exited while creating the container")));
    }

    [Test]
    public async Task ASupervisorsError_ReachesTheClientWithItsCode()
    {
        using var dir = new TempDir();
        string path = dir.Combine("sock");
        using var socket = SupervisorSocket.Listen(path);
        using var cts = new CancellationTokenSource();
        var serving = socket.ServeAsync((request, fds, reply) =>
            throw new ClearOciException(ErrorCode.InvalidState, $"refused {request.Operation}"), cts.Token);
        var e = await Task.Run(() => Assert.Throws<ClearOciException>(() => SupervisorClient.Call(path, new PauseRequest()))!);
        Assert.That((e.Code, e.Message), Is.EqualTo((ErrorCode.InvalidState, "refused Pause")));
        cts.Cancel();
        await serving;
    }

    [Test]
    public async Task ASupervisorThatDoesNotAnswer_IsATimeoutNamingIt()
    {
        using var dir = new TempDir();
        string path = dir.Combine("sock");
        using var socket = SupervisorSocket.Listen(path);
        using var cts = new CancellationTokenSource();
        var never = new TaskCompletionSource();
        var serving = socket.ServeAsync((_, _, _) => never.Task, cts.Token);
        var e = await Task.Run(() => Assert.Throws<ClearOciException>(() => SupervisorClient.Call(path, new StartRequest(), TimeSpan.FromMilliseconds(300)))!);
        Assert.That(e.Code, Is.EqualTo(ErrorCode.Timeout));
        Assert.That(e.Message, Does.Contain(path).And.Contain("did not answer"));
        never.SetResult();
        cts.Cancel();
        await serving;
    }

    [Test]
    public void NoSupervisor_IsASystemErrorNamingTheSocket()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ClearOciException>(() => SupervisorClient.Call(dir.Combine("sock"), new StartRequest()))!;
        Assert.That(e.Code, Is.EqualTo(ErrorCode.System));
        Assert.That(e.Message, Does.Contain(dir.Combine("sock")));
    }
}
