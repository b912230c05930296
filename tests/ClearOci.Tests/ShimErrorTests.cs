using System.Text.Json.Nodes;
using ClearOci.Shim;
using ClearOci.Spec;

namespace ClearOci.Tests;

/// <summary>ClearOci's error codes on the shim's wire (RuntimeErrors), and the metrics it sends.</summary>
public class ShimErrorTests
{
    [TestCase(ErrorCode.InvalidArgument, RpcCode.InvalidArgument)]
    [TestCase(ErrorCode.NotFound, RpcCode.NotFound)]
    [TestCase(ErrorCode.AlreadyExists, RpcCode.AlreadyExists)]
    [TestCase(ErrorCode.InvalidState, RpcCode.FailedPrecondition)]
    [TestCase(ErrorCode.Unsupported, RpcCode.Unimplemented)]
    [TestCase(ErrorCode.Timeout, RpcCode.DeadlineExceeded)]
    [TestCase(ErrorCode.System, RpcCode.Unknown)]
    [TestCase(ErrorCode.Agent, RpcCode.Unknown)]
    [TestCase(ErrorCode.Internal, RpcCode.Internal)]
    public void Code_EachClearOciCode_MapsToItsGrpcCode(ErrorCode code, RpcCode expected) =>
        Assert.That(RuntimeErrors.Code(code), Is.EqualTo(expected));

    [Test]
    public void Code_EveryClearOciCode_IsAnError()
    {
        foreach (var code in Enum.GetValues<ErrorCode>())
            Assert.That(RuntimeErrors.Code(code), Is.Not.EqualTo(RpcCode.Ok), code.ToString());
    }

    [Test]
    public void ToRpc_KeepsTheMessageBehindRuncsWords()
    {
        var e = RuntimeErrors.ToRpc("start", new ClearOciException(ErrorCode.InvalidState, "cannot start an already running container"));
        Assert.That((e.Code, e.Message), Is.EqualTo((RpcCode.FailedPrecondition, "OCI runtime start failed: cannot start an already running container")));
    }

    [Test]
    public async Task RunAsync_ARuntimeError_BecomesAnRpcErrorWithItsCode()
    {
        var e = Assert.ThrowsAsync<RpcException>(() => RuntimeErrors.RunAsync("kill", () => throw new ClearOciException(ErrorCode.NotFound, "container does not exist: x")));
        Assert.That((e!.Code, e.Message), Is.EqualTo((RpcCode.NotFound, "OCI runtime kill failed: container does not exist: x")));
        Assert.That(await RuntimeErrors.RunAsync("stats", () => 42), Is.EqualTo(42));
    }

    [Test]
    public async Task RunAsync_RunsTheBlockingCallOffThePool()
    {
        bool onPool = await RuntimeErrors.RunAsync("state", () => Thread.CurrentThread.IsThreadPoolThread);
        Assert.That(onPool, Is.False, "a blocking Lifecycle call gets a thread of its own");
    }

    [Test]
    public void RunAsync_OtherExceptions_PassThroughUnchanged() =>
        Assert.ThrowsAsync<IOException>(() => RuntimeErrors.RunAsync("delete", () => throw new IOException("disk")));

    [Test]
    public void Metrics_FromLifecyclesStatsEvent_CarriesCpuMemoryPids()
    {
        // The shape Lifecycle.StatsEvent builds (numbers of several CLR types).
        var e = new JsonObject
        {
            ["type"] = "stats",
            ["id"] = "c",
            ["data"] = new JsonObject
            {
                ["cpu"] = new JsonObject { ["usage"] = new JsonObject { ["total"] = 300UL, ["user"] = 200L, ["kernel"] = 100UL } },
                ["memory"] = new JsonObject { ["usage"] = new JsonObject { ["usage"] = 4096L, ["limit"] = 8192UL } },
                ["pids"] = new JsonObject { ["current"] = 3 },
            },
        };
        var any = MetricsConverter.FromStatsEvent(e);
        Assert.That(any.TypeUrl, Is.EqualTo("io.containerd.cgroups.v1.Metrics"));
        Assert.That(Convert.ToHexString(any.Value), Is.EqualTo("12020803" + "1A0A0A0808AC02106418C801" + "22098A0206088040108020"));
    }
}
