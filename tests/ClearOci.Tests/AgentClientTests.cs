using ClearOci.Client;
using ClearOci.Protocol;
using ClearOci.Runtime;
using ClearOci.Spec;

namespace ClearOci.Tests;

/// <summary>The host end of the agent protocol against a scripted fake guest over in-memory streams.</summary>
public class AgentClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private sealed class Fixture : IAsyncDisposable
    {
        public Fixture()
        {
            var (ctlHost, ctlGuest) = InMemoryDuplex.CreatePair(maxRead: 100);
            var (ioHost, ioGuest) = InMemoryDuplex.CreatePair(maxRead: 1000);
            GuestControlStream = ctlGuest;
            Control = new ControlChannel(ctlGuest);
            Io = new IoChannel(ioGuest);
            Client = new AgentClient(ctlHost, ioHost);
        }

        public AgentClient Client { get; }
        public ControlChannel Control { get; }
        public IoChannel Io { get; }
        public DuplexStream GuestControlStream { get; }

        public async Task<Message> NextRequest() => (await Control.ReceiveAsync().WaitAsync(Timeout))!;

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Control.DisposeAsync();
            await Io.DisposeAsync();
        }
    }

    [Test]
    public async Task HelloCompletesWhenTheGuestGreets()
    {
        await using var f = new Fixture();
        var hello = f.Client.HelloAsync(CancellationToken.None);
        Assert.That(hello.IsCompleted, Is.False);
        await f.Control.SendAsync(new Hello { Version = 1, KernelRelease = "6.1-clearoci", AgentReadyNs = 5 });
        var h = await hello.WaitAsync(Timeout);
        Assert.That((h.Version, h.KernelRelease, h.AgentReadyNs), Is.EqualTo((1, "6.1-clearoci", 5L)));
    }

    [Test]
    public async Task ResponsesAreMatchedToRequestsById()
    {
        await using var f = new Fixture();
        var first = f.Client.RequestAsync(new StartProcess { ContainerId = "one" });
        var second = f.Client.RequestAsync(new StartProcess { ContainerId = "two" });
        var r1 = (StartProcess)await f.NextRequest();
        var r2 = (StartProcess)await f.NextRequest();
        Assert.That(r1.Id, Is.Not.EqualTo(r2.Id).And.GreaterThan(0));
        // Answer in reverse order; each caller gets its own answer.
        foreach (var r in new[] { r2, r1 })
            await f.Control.SendAsync(new Response { Id = r.Id, Pid = r.ContainerId == "one" ? 100 : 200 });
        Assert.That((await first.WaitAsync(Timeout)).Pid, Is.EqualTo(100));
        Assert.That((await second.WaitAsync(Timeout)).Pid, Is.EqualTo(200));
    }

    [TestCase(nameof(ErrorCode.NotFound), ErrorCode.NotFound)]
    [TestCase(nameof(ErrorCode.InvalidState), ErrorCode.InvalidState)]
    [TestCase("SomethingNew", ErrorCode.Agent)]
    [TestCase(null, ErrorCode.Agent)]
    public async Task GuestErrorsBecomeClearOciExceptions(string? code, ErrorCode expected)
    {
        await using var f = new Fixture();
        var call = f.Client.RequestAsync(new SignalProcess { ContainerId = "c", Signal = 9 });
        var req = await f.NextRequest();
        await f.Control.SendAsync(new Response { Id = req.Id, Error = "container c does not exist in the guest", Code = code });
        var e = Assert.ThrowsAsync<ClearOciException>(async () => await call.WaitAsync(Timeout));
        Assert.That(e!.Code, Is.EqualTo(expected));
        Assert.That(e.Message, Is.EqualTo("container c does not exist in the guest"));
    }

    [Test]
    public async Task ExitEventsReachTheirWaiterEvenIfTheyArriveFirst()
    {
        await using var f = new Fixture();
        await f.Control.SendAsync(new ProcessExited { ContainerId = "early", Status = 3 });
        var late = f.Client.WaitExitAsync("late");
        await f.Control.SendAsync(new ProcessExited { ContainerId = "late", Status = 137 });
        Assert.That((await late.WaitAsync(Timeout)).Status, Is.EqualTo(137));
        Assert.That((await f.Client.WaitExitAsync("early").WaitAsync(Timeout)).Status, Is.EqualTo(3));
    }

    [Test]
    public async Task WaitExit_ReusedExecId_GetsTheNewRunsStatus()
    {
        await using var f = new Fixture();
        var first = f.Client.WaitExitAsync("c", "e");
        await f.Control.SendAsync(new ProcessExited { ContainerId = "c", ExecId = "e", Status = 3 });
        Assert.That((await first.WaitAsync(Timeout)).Status, Is.EqualTo(3));
        var second = f.Client.WaitExitAsync("c", "e");
        // A kept status would complete it at once; it must wait for the next report.
        Assert.That(second.IsCompleted, Is.False, "the first run's exit was consumed");
        await f.Control.SendAsync(new ProcessExited { ContainerId = "c", ExecId = "e", Status = 7 });
        Assert.That((await second.WaitAsync(Timeout)).Status, Is.EqualTo(7));
    }

    [Test]
    public async Task WaitExit_ExecIdStillAwaited_IsRefused()
    {
        await using var f = new Fixture();
        var first = f.Client.WaitExitAsync("c", "e");
        var e = Assert.Throws<ClearOciException>(() => f.Client.WaitExitAsync("c", "e"));
        Assert.That(e!.Code, Is.EqualTo(ErrorCode.AlreadyExists));
        Assert.That(e.Message, Does.Contain("exec id e is in use"));
        await f.Control.SendAsync(new ProcessExited { ContainerId = "c", ExecId = "e", Status = 0 });
        Assert.That((await first.WaitAsync(Timeout)).Status, Is.EqualTo(0));
    }

    [Test]
    public async Task OomKilled_IsRaisedBeforeTheExitThatFollowsIt()
    {
        await using var f = new Fixture();
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        f.Client.OomKilled += o => order.Enqueue("oom " + o.ContainerId);
        var exit = f.Client.WaitExitAsync("c");
        await f.Control.SendAsync(new OomKilled { ContainerId = "c" });
        await f.Control.SendAsync(new ProcessExited { ContainerId = "c", Status = 137 });
        Assert.That((await exit.WaitAsync(Timeout)).Status, Is.EqualTo(137));
        Assert.That(order, Is.EqualTo(new[] { "oom c" }));
    }

    [Test]
    public async Task DnsQueriesAreRaised_AndAnswersGoBackUnasked()
    {
        await using var f = new Fixture();
        var raised = new TaskCompletionSource<DnsQuery>(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Client.DnsQueried += q => raised.TrySetResult(q);
        var query = new DnsQuery { Query = 5, Server = "127.0.0.11", Data = [1, 2, 3] };
        await f.Control.SendAsync(query);
        Assert.That(await raised.Task.WaitAsync(Timeout), Is.EqualTo(query));
        await f.Client.AnswerDnsAsync(5, new byte[] { 4, 5 });
        Assert.That(await f.NextRequest(), Is.EqualTo(new DnsAnswer { Id = 0, Query = 5, Data = [4, 5] }));
    }

    [Test]
    public async Task OutputFramesAreCopiedToTheAttachedStreamUntilEof()
    {
        await using var f = new Fixture();
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var outDone = f.Client.AttachOutput(2, stdout);
        var errDone = f.Client.AttachOutput(3, stderr);
        byte[] big = new byte[200_000];
        new Random(1).NextBytes(big);
        await f.Io.SendAsync(2, big);
        await f.Io.SendAsync(3, "oops\n"u8.ToArray());
        await f.Io.SendAsync(9, "nobody listens\n"u8.ToArray());
        await f.Io.SendEofAsync(3);
        await errDone.WaitAsync(Timeout);
        Assert.That(outDone.IsCompleted, Is.False, "stdout is still open");
        await f.Io.SendEofAsync(2);
        await outDone.WaitAsync(Timeout);
        Assert.That(stdout.ToArray(), Is.EqualTo(big));
        Assert.That(stderr.ToArray(), Is.EqualTo("oops\n"u8.ToArray()));
    }

    [Test]
    public async Task InputIsFramedOnItsStream()
    {
        await using var f = new Fixture();
        await f.Client.SendInputAsync(1, "abc"u8.ToArray());
        await f.Client.SendInputEofAsync(1);
        var data = (await f.Io.ReceiveAsync().WaitAsync(Timeout))!.Value;
        var eof = (await f.Io.ReceiveAsync().WaitAsync(Timeout))!.Value;
        Assert.That((data.Stream, data.Eof, data.Data.ToArray()), Is.EqualTo((1u, false, "abc"u8.ToArray())));
        Assert.That((eof.Stream, eof.Eof), Is.EqualTo((1u, true)));
    }

    [Test]
    public async Task ALostGuestFailsPendingAndLaterCalls()
    {
        await using var f = new Fixture();
        var pending = f.Client.RequestAsync(new StartProcess { ContainerId = "c" });
        var exit = f.Client.WaitExitAsync("c");
        var hello = f.Client.HelloAsync(CancellationToken.None);
        await f.NextRequest();
        f.GuestControlStream.CompleteWrites(); // the guest side of the control channel closes
        foreach (var t in new Task[] { pending, exit, hello })
        {
            var e = Assert.ThrowsAsync<ClearOciException>(async () => await t.WaitAsync(Timeout));
            Assert.That(e!.Code, Is.EqualTo(ErrorCode.Agent));
            Assert.That(e.Message, Does.Contain("lost the connection to the guest agent"));
        }
        var later = Assert.ThrowsAsync<ClearOciException>(async () => await f.Client.RequestAsync(new StartProcess { ContainerId = "c" }).WaitAsync(Timeout));
        Assert.That(later!.Code, Is.EqualTo(ErrorCode.Agent));
    }
}
