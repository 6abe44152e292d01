using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace Ataraxia.Benchmarks;

/// <summary>
/// A short job for a small (2-core) machine, so that the whole suite finishes in a few minutes: one launch,
/// 3 warm-up and 5 measured iterations of about 250 ms each. The numbers are good to a few percent on a quiet
/// machine; for publishable figures run with <c>--job default</c> (or <c>--job medium</c>) instead.
/// Median and Min are shown besides Mean: when other jobs share the cores they are the steadier figures.
/// </summary>
public sealed class MicroConfig : ManualConfig
{
    public MicroConfig()
    {
        AddJob(Job.Default
            .WithId("Micro")
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(5)
            .WithIterationTime(TimeInterval.FromMilliseconds(250)));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min);
    }
}
