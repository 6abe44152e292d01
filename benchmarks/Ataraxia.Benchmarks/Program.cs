using BenchmarkDotNet.Running;

namespace Ataraxia.Benchmarks;

/// <summary>
/// Micro-benchmarks of the hot paths (CBOR, peer message codec, routing, payload mapping).
/// Run everything with <c>dotnet run -c Release --project benchmarks/Ataraxia.Benchmarks -- --filter '*'</c>;
/// see README.md for the job settings and benchmarks/results/micro.md for the last recorded run.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
