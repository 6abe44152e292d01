using System.Diagnostics;

namespace Ataraxia.Throughput;

/// <summary>Shared measuring helpers: counting over a timed window and latency percentiles.</summary>
public static class Measure
{
    /// <summary>Waits out the warm-up, then counts what <paramref name="counter"/> gains during the run's duration.</summary>
    public static async Task<(long Count, TimeSpan Elapsed)> CountAsync(Func<long> counter, RunContext context)
    {
        await Task.Delay(context.Warmup);
        long first = counter();
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(context.Duration);
        long last = counter();
        return (last - first, Stopwatch.GetElapsedTime(start));
    }

    /// <summary>Makes a latency row from samples in microseconds.</summary>
    public static Row LatencyRow(string id, string name, List<double> samples, string? baseline = null, string? js = null, string? target = null, Func<double, double, bool>? met = null)
    {
        samples.Sort();
        double p50 = Percentile(samples, 0.50);
        double p99 = Percentile(samples, 0.99);
        return new Row
        {
            Id = id,
            Name = name,
            P50Microseconds = p50,
            P99Microseconds = p99,
            P999Microseconds = Percentile(samples, 0.999),
            Baseline = baseline,
            Js = js,
            Target = target,
            Met = met?.Invoke(p50, p99),
        };
    }

    public static double Percentile(List<double> sorted, double fraction)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        int index = (int)Math.Ceiling(fraction * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }
}
