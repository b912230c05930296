namespace ClearOci.ShimTests;

/// <summary>One private containerd for a fixture's tests, stopped and removed after them.</summary>
public abstract class ContainerdFixture(bool cri)
{
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    protected Containerd _c = null!;

    [OneTimeSetUp]
    public async Task StartContainerd() => _c = await Containerd.StartAsync(cri);

    [OneTimeTearDown]
    public async Task StopContainerd()
    {
        if (_c != null) await _c.DisposeAsync();
    }
}
