using BenchmarkDotNet.Attributes;
using ClearOci.Spec;

namespace ClearOci.Benchmarks;

/// <summary>Parse and validate the config.json Docker writes (no file system access).</summary>
[MemoryDiagnoser]
public class ConfigLoaderBenchmarks
{
    private readonly byte[] _utf8 = Samples.DockerConfigUtf8;

    [Benchmark]
    public object ParseDockerConfig() => ConfigLoader.Parse(_utf8, "config.json");
}
