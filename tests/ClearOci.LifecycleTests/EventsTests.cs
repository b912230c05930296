using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>`events`: runc's stats events, from the guest (the VM is the container's).</summary>
[NonParallelizable]
public class EventsTests : LifecycleFixture
{
    [Test]
    public async Task EventsStats_ReportsTheContainersProcessesAndMemory()
    {
        SetArgs("sh", "-c", "sleep 1000 & sleep 1000 & echo ready; wait");
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));
        await WaitForOutputAsync(c, "ready");

        var r = await Oci("events", "--stats", id);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var e = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That((string?)e["type"], Is.EqualTo("stats"));
            Assert.That((string?)e["id"], Is.EqualTo(id));
            Assert.That((int?)e["data"]!["pids"]!["current"], Is.EqualTo(3), "sh and two sleeps");
            Assert.That((long?)e["data"]!["memory"]!["usage"]!["usage"], Is.GreaterThan(0));
            Assert.That((long?)e["data"]!["memory"]!["usage"]!["limit"], Is.GreaterThanOrEqualTo((long)e["data"]!["memory"]!["usage"]!["usage"]!));
            Assert.That((long?)e["data"]!["cpu"]!["usage"]!["total"], Is.GreaterThan(0));
        });

        Assert.That((await Oci("kill", id, "KILL")).ExitCode, Is.EqualTo(0));
        await WaitForStatusAsync(id, "stopped");
        ReapExit(c);
        AssertFails(await Oci("events", "--stats", id), "not running");
    }
}
