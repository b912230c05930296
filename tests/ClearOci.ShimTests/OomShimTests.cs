namespace ClearOci.ShimTests;

/// <summary>An OOM kill in the container's VM reaches containerd as /tasks/oom (TaskOOM), before the task's exit.</summary>
[TestFixture]
public class OomShimTests() : ContainerdFixture(cri: false)
{
    [Test]
    public async Task MemoryLimitExceeded_PublishesTaskOom_BeforeTheExit()
    {
        string id = $"oom-{Guid.NewGuid().ToString("N")[..6]}";
        _c.Track(id);
        // busybox tail keeps all it read while it looks for line ends: /dev/zero has none.
        var run = await _c.CtrAsync(["run", "--rm", "--runtime", Containerd.Runtime, "--memory-limit", (16L << 20).ToString(),
            Containerd.Image, id, "busybox", "tail", "/dev/zero"], Containerd.RunTimeout);
        Assert.That(run.ExitCode, Is.EqualTo(137), run.ToString());
        Assert.That(await _c.WaitForEventAsync("/tasks/delete", id, Deadline), Is.True, string.Join('\n', _c.EventLines));
        Assert.That(_c.TopicsFor(id), Is.EqualTo(new[] { "/tasks/create", "/tasks/start", "/tasks/oom", "/tasks/exit", "/tasks/delete" }),
            string.Join('\n', _c.EventLines));
    }
}
