using System.Diagnostics;

namespace Ataraxia.Throughput;

/// <summary>Shared measuring helpers: counting over a timed window and latency percentiles.</summary>
public static class Measure
{
    /// <summary>Waits out the warm-up, then counts what <paramref name="counter"/> gains during the run's duration.</summary>
    public static async Task<(long Count, TimeSpan Elapsed)> CountAsync(Func<long> counter, RunContext context)
    {
        (long count, TimeSpan elapsed, _, _) = await CountWithAllocationsAsync(counter, context);
        return (count, elapsed);
    }

    /// <summary>Like <see cref="CountAsync"/>, also returning the managed bytes the process allocated per counted item.</summary>
    public static async Task<(long Count, TimeSpan Elapsed, double AllocatedPerItem, double CpuMicrosecondsPerItem)> CountWithAllocationsAsync(Func<long> counter, RunContext context)
    {
        await Task.Delay(context.Warmup);
        context.Sampler?.Reset();
        long first = counter();
        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        TimeSpan paused = GC.GetTotalPauseDuration();
        int collections = GC.CollectionCount(0);
        long workItems = ThreadPool.CompletedWorkItemCount;
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(context.Duration);
        long last = counter();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        if (context.Sampler is not null)
        {
            Console.Error.WriteLine($"  GC: {GC.CollectionCount(0) - collections} collections, paused {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:0} ms of {elapsed.TotalMilliseconds:0} ms; thread-pool work items per item: {(double)(ThreadPool.CompletedWorkItemCount - workItems) / Math.Max(1, last - first):0.00}; threads {ThreadPool.ThreadCount}");
        }

        allocated = GC.GetTotalAllocatedBytes(precise: false) - allocated;
        if (context.Sampler is { } sampler)
        {
            Console.Error.WriteLine("  sampled allocations:");
            Console.Error.WriteLine(sampler.Top(15));
        }

        long count = last - first;
        return (count, elapsed, count > 0 ? (double)allocated / count : double.NaN, count > 0 ? cpu.TotalMicroseconds / count : double.NaN);
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
