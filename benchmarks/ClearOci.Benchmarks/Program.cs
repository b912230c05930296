using System.Runtime.CompilerServices;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/ClearOci.Benchmarks -- --filter '*'
// Results go to benchmarks/ClearOci.Benchmarks/BenchmarkDotNet.Artifacts (git-ignored) unless
// --artifacts says otherwise.
var config = DefaultConfig.Instance.WithArtifactsPath(Path.Combine(ProjectDirectory(), "BenchmarkDotNet.Artifacts"));
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);

// BenchmarkDotNet exits 0 even when a benchmark failed to build or run (its result is NA):
// fail loudly instead.
int failed = summaries.SelectMany(s => s.Reports).Count(r => !r.Success || r.ResultStatistics is null);
if (failed > 0)
{
    Console.Error.WriteLine($"ClearOci.Benchmarks: {failed} benchmark(s) produced no result (NA)");
    return 1;
}
return 0;

static string ProjectDirectory([CallerFilePath] string file = "") => Path.GetDirectoryName(file)!;
