namespace ClearOci.ShimTests;

/// <summary>
/// The Kubernetes pod life cycle through containerd's CRI plugin with runtime handler
/// `clearoci` (runtime_type io.containerd.clearoci.v2), driven by the calls kubelet makes.
/// Host networking: this machine has no CNI plugins.
/// </summary>
[TestFixture]
public class CriTests() : ContainerdFixture(cri: true)
{
    [Test]
    public async Task PodLifeCycle_RunCreateStartExecStopRemove_OneShimAndOneVmForThePod()
    {
        using var cri = new CriClient(_c.Address);
        string logDir = Path.Combine(_c.Dir, "pod-logs");
        Directory.CreateDirectory(logDir);
        byte[] pod = CriClient.PodConfig("web", Guid.NewGuid().ToString(), logDir);

        string sandbox = await cri.RunPodSandboxAsync(pod, "clearoci");
        _c.Track(sandbox, "k8s.io");
        Assert.That(_c.ShimDaemons(sandbox), Has.Count.EqualTo(1), "a shim for the pod");

        string app = await cri.CreateContainerAsync(sandbox, pod, "app", Containerd.Image, ["sh", "-c", "echo cri-hello; exec sleep 1000"], "app.log");
        await cri.StartContainerAsync(app);
        Assert.That((await cri.ContainerStateAsync(app)).State, Is.EqualTo(1), "RUNNING");
        Assert.That(_c.ShimDaemons(app), Is.Empty, "the app container is served by the pod's shim");
        Assert.That(_c.ShimDaemons(sandbox), Has.Count.EqualTo(1));
        // One VM per pod: the app runs in the sandbox's VM (QEMU is named after the VM's container).
        Assert.That(Tools.FindProcesses("qemu-system", $"clearoci-{sandbox} "), Has.Count.EqualTo(1), "the pod's VM");
        Assert.That(Tools.FindProcesses("qemu-system", $"clearoci-{app} "), Is.Empty, "no VM of the app's own");

        var (firstBoot, _) = await cri.ExecSyncAsync(app, ["cat", "/proc/sys/kernel/random/boot_id"], 120);
        var (stdout, exit) = await cri.ExecSyncAsync(app, ["sh", "-c", "echo exec-sync; exit 4"], 120);
        Assert.That((stdout.Trim(), exit), Is.EqualTo(("exec-sync", 4)));
        Assert.That(await cri.ContainerStatsAsync(app), Is.Not.Empty, "ContainerStats gets cgroups v1 Metrics");
        string log = Path.Combine(logDir, "app.log");
        Assert.That(await Tools.PollAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllText(log).Contains("cri-hello")), Deadline), Is.True,
            "the container's output reaches the CRI log");

        await cri.StopContainerAsync(app, 2);
        var stopped = await cri.ContainerStateAsync(app);
        Assert.That(stopped.State, Is.EqualTo(2), "EXITED");
        Assert.That(stopped.ExitCode, Is.EqualTo(137).Or.EqualTo(143), "killed by the stop");
        await cri.RemoveContainerAsync(app);
        Assert.That(_c.ShimDaemons(sandbox), Has.Count.EqualTo(1), "the pod's shim outlives the app container");
        Assert.That(Tools.FindProcesses("qemu-system", $"clearoci-{sandbox} "), Has.Count.EqualTo(1), "the pod's VM outlives the app container");

        // A second app starts in the same VM after the first one went.
        string second = await cri.CreateContainerAsync(sandbox, pod, "second", Containerd.Image, ["sh", "-c", "exec sleep 1000"], "second.log");
        await cri.StartContainerAsync(second);
        var (boot, bootExit) = await cri.ExecSyncAsync(second, ["cat", "/proc/sys/kernel/random/boot_id"], 120);
        Assert.That(bootExit, Is.EqualTo(0));
        Assert.That(boot.Trim(), Is.EqualTo(firstBoot.Trim()).And.Not.Empty, "the same guest kernel as the first app's");
        Assert.That(Tools.FindProcesses("qemu-system", $"clearoci-{sandbox} "), Has.Count.EqualTo(1), "still one VM for the pod");

        // StopPodSandbox with the second app still running: the pod's VM ends, the app with it.
        await cri.StopPodSandboxAsync(sandbox);
        Assert.That((await cri.ContainerStateAsync(second)).State, Is.EqualTo(2), "EXITED with its pod");
        Assert.That(await Tools.PollAsync(() => Task.FromResult(Tools.FindProcesses("qemu-system", $"clearoci-{sandbox} ").Count == 0), Deadline), Is.True, "the pod's VM is gone");
        await cri.RemovePodSandboxAsync(sandbox);
        Assert.That(await Tools.PollAsync(() => Task.FromResult(_c.ShimDaemons(sandbox).Count == 0), Deadline), Is.True, "the shim ends with the pod");
        var tasks = await _c.CtrAsync(["task", "ls", "-q"], ns: "k8s.io");
        Assert.That(tasks.Stdout.Trim(), Is.Empty, tasks.ToString());
    }
}
