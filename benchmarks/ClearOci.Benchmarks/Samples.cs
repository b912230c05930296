namespace ClearOci.Benchmarks;

/// <summary>Inputs shared by the benchmarks.</summary>
internal static class Samples
{
    /// <summary>The config.json Docker 20.10 wrote for a busybox container (benchmarks/data/docker-config.json).</summary>
    public static byte[] DockerConfigUtf8 { get; } = Load("docker-config.json");

    public static string DockerConfigJson { get; } = System.Text.Encoding.UTF8.GetString(DockerConfigUtf8);

    private static byte[] Load(string name)
    {
        using var s = typeof(Samples).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}
