namespace ClearOci.Spec.Tests;

/// <summary>
/// Golden files: spec-fixtures/configs/broken/NAME.json must fail with exactly the message in NAME.expected,
/// where <c>{file}</c> stands for the fixture's path.
/// </summary>
public class BrokenConfigTests
{
    private static IEnumerable<TestCaseData> Broken() => Fixtures.Cases(Fixtures.BrokenConfigs, "*.json");

    [TestCaseSource(nameof(Broken))]
    public void LoadFile_BrokenFixture_FailsWithExpectedMessage(string path)
    {
        string expectedFile = Path.ChangeExtension(path, ".expected");
        Assert.That(File.Exists(expectedFile), Is.True, $"{expectedFile} is missing");
        string expected = File.ReadAllText(expectedFile).TrimEnd('\n').Replace("{file}", path);

        var error = Assert.Throws<ClearOciException>(() => ConfigLoader.LoadFile(path, Path.GetDirectoryName(path)!))!;

        Assert.That(error.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        Assert.That(error.Message, Is.EqualTo(expected));
    }

    [Test]
    public void BrokenFixtures_EveryExpectedFile_HasItsConfig()
    {
        string[] orphans = Directory.GetFiles(Fixtures.BrokenConfigs, "*.expected")
            .Where(e => !File.Exists(Path.ChangeExtension(e, ".json")))
            .ToArray();

        Assert.That(orphans, Is.Empty);
        Assert.That(Directory.GetFiles(Fixtures.BrokenConfigs, "*.json"), Has.Length.GreaterThanOrEqualTo(12));
    }
}
