namespace ClearOci.Spec.Tests;

/// <summary>Finds spec-fixtures/ by walking up from the test binary to the directory holding ClearOci.sln.</summary>
internal static class Fixtures
{
    private static readonly Lazy<string> s_root = new(FindRepositoryRoot);

    public static string RepositoryRoot => s_root.Value;
    public static string ValidConfigs => Path.Combine(RepositoryRoot, "spec-fixtures", "configs", "valid");
    public static string BrokenConfigs => Path.Combine(RepositoryRoot, "spec-fixtures", "configs", "broken");

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClearOci.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no ClearOci.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Fixture files as NUnit cases named after the file, sorted for a stable order.</summary>
    public static IEnumerable<TestCaseData> Cases(string directory, string pattern) =>
        Directory.GetFiles(directory, pattern)
            .Order(StringComparer.Ordinal)
            .Select(path => new TestCaseData(path).SetArgDisplayNames(Path.GetFileNameWithoutExtension(path)));
}
