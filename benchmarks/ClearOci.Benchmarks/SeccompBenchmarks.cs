using BenchmarkDotNet.Attributes;
using ClearOci.Seccomp;
using ClearOci.Spec;

namespace ClearOci.Benchmarks;

/// <summary>Compile Docker's default seccomp profile (about 350 names, three ABIs) to BPF, as the agent does per container.</summary>
[MemoryDiagnoser]
public class SeccompBenchmarks
{
    private readonly LinuxSeccomp _docker = ConfigLoader.Parse(Samples.DockerConfigUtf8, "config.json").Linux!.Seccomp!;

    [Benchmark]
    public SeccompFilter? CompileDockerProfile() => SeccompCompiler.Compile(_docker);
}
