namespace ClearOci.Tests;

/// <summary>Paths in the repository, found by walking up from the test binary to ClearOci.sln.</summary>
internal static class Repo
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ClearOci.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no ClearOci.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => s_root.Value;
    public static string QemuGoldens => Path.Combine(Root, "spec-fixtures", "qemu");

    /// <summary>UPDATE_GOLDEN=1 rewrites golden files instead of comparing with them.</summary>
    public static bool UpdateGoldens => Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1";
}

/// <summary>A private temporary directory, removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"clearoci-unit-{Guid.NewGuid():N}");

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
