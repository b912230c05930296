using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>linux.resources and `update --resources`: the container's cgroup inside the guest.</summary>
[NonParallelizable]
public class UpdateTests : LifecycleFixture
{
    private const string ForkSix = "sleep 60 & sleep 60 & sleep 60 & sleep 60 & sleep 60 & sleep 60 & echo forked";

    [Test]
    public async Task PidsLimit_StopsForks_AndUpdateRaisesItLive()
    {
        SetArgs("sleep", "1000");
        EditConfig(c => c["linux"]!["resources"] = JsonNode.Parse("""{"pids":{"limit":5}}"""));
        string id = NewId();
        var c = await CreateAsync(id);
        Assert.That((await Oci("start", id)).ExitCode, Is.EqualTo(0));

        var limited = await Oci("exec", id, "sh", "-c", ForkSix);
        Assert.That(limited.Stderr, Does.Contain("can't fork"), limited.ToString());
        Assert.That(limited.Stdout, Does.Not.Contain("forked"));

        string file = Path.Combine(WorkDir, "resources.json");
        File.WriteAllText(file, """{"pids":{"limit":100}}""");
        var update = await Oci("update", "--resources", file, id);
        Assert.That(update.ExitCode, Is.EqualTo(0), update.ToString());

        var raised = await Oci("exec", id, "sh", "-c", ForkSix);
        Assert.That(raised.Stdout, Is.EqualTo("forked\n"), raised.ToString());

        File.WriteAllText(file, """{"memory":{"limit":"lots"}}""");
        AssertFails(await Oci("update", "--resources", file, id), "$.memory.limit");

        Assert.That((await Oci("kill", id, "KILL")).ExitCode, Is.EqualTo(0));
        await WaitForStatusAsync(id, "stopped");
        ReapExit(c);
        File.WriteAllText(file, """{"pids":{"limit":10}}""");
        AssertFails(await Oci("update", "--resources", file, id), "not running");
    }
}
