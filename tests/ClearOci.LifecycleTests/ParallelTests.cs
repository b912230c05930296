using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ClearOci.LifecycleTests;

/// <summary>Many VMs at once under one --root.</summary>
[TestFixture]
public sealed class ParallelTests : LifecycleFixture
{
    private const int Count = 10;

    [Test, Category("Slow")]
    public async Task TenContainers_CreatedInParallel_ListedAndForceDeletedInParallel()
    {
        SetArgs("sleep", "1000");
        var ids = Enumerable.Range(0, Count).Select(_ => NewId("p")).ToList();
        var deadline = TimeSpan.FromSeconds(180);
        var clock = Stopwatch.StartNew();
        var created = await Task.WhenAll(ids.Select(id => Task.Run(() => CreateAsync(id, expectSuccess: false, timeout: deadline))));
        TestContext.Out.WriteLine($"{Count} parallel creates took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Multiple(() =>
        {
            foreach (var c in created) Assert.That(c.Result.ExitCode, Is.EqualTo(0), c.Result.ToString());
        });
        Assert.That(created.Select(c => c.Pid).Distinct().Count(), Is.EqualTo(Count), "ten distinct pid-file processes");

        var list = await Oci("list", "--format", "json");
        Assert.That(list.ExitCode, Is.EqualTo(0), list.ToString());
        var entries = JsonNode.Parse(list.Stdout)!.AsArray().Select(n => n!.AsObject()).ToList();
        Assert.That(entries.Select(e => (string?)e["id"]), Is.EquivalentTo(ids));
        Assert.Multiple(() =>
        {
            foreach (var e in entries)
            {
                var c = created.Single(x => x.Id == (string?)e["id"]);
                Assert.That((string?)e["status"], Is.EqualTo("created"), $"{c.Id}: status");
                Assert.That((int?)e["pid"], Is.EqualTo(c.Pid), $"{c.Id}: pid");
                Assert.That((string?)e["bundle"], Is.EqualTo(Bundle), $"{c.Id}: bundle");
            }
        });
        var quiet = await Oci("list", "-q");
        Assert.That(quiet.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EquivalentTo(ids), "list -q");

        foreach (var id in ids)
        {
            string path = Path.Combine(StateRoot, id, "state.json");
            var state = JsonNode.Parse(File.ReadAllText(path))!.AsObject(); // throws if it does not parse
            Assert.That((string?)state["id"], Is.EqualTo(id), path);
            Assert.That((string?)state["bundle"], Is.EqualTo(Bundle), path);
        }

        clock.Restart();
        var deletes = await Task.WhenAll(ids.Select(id => Task.Run(() => Cli.RunAsync(Cli.Binary, ["--root", StateRoot, "delete", "--force", id], deadline))));
        TestContext.Out.WriteLine($"{Count} parallel delete --force took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Multiple(() =>
        {
            foreach (var d in deletes) Assert.That(d.ExitCode, Is.EqualTo(0), d.ToString());
        });
        Assert.That(Directory.EnumerateFileSystemEntries(StateRoot), Is.Empty, "the root is empty after the deletes");
        foreach (var c in created)
            Assert.That(ReapExit(c, TimeSpan.FromSeconds(20)).ShellCode, Is.EqualTo(137), $"{c.Id}: killed by delete --force");
        Assert.That(VmProcessesOf(WorkDir), Is.Empty, "no VM process left");
    }
}
