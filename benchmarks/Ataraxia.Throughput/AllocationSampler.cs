using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Ataraxia.Throughput;

/// <summary>
/// Samples what the process allocates through the runtime's allocation-tick events (one event about every 100 KB),
/// for <c>--alloc</c>: which types the hot path allocates, by sampled bytes.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    public IReadOnlyDictionary<string, long> Bytes => _bytes;

    public void Reset() => _bytes.Clear();

    public string Top(int count)
    {
        long total = _bytes.Values.Sum();
        return string.Join(Environment.NewLine, _bytes
            .OrderByDescending(p => p.Value)
            .Take(count)
            .Select(p => $"    {100.0 * p.Value / Math.Max(total, 1),5:0.0} %  {p.Key}"));
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
        {
            return;
        }

        int typeIndex = eventData.PayloadNames!.IndexOf("TypeName");
        int amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (typeIndex < 0)
        {
            return;
        }

        string type = eventData.Payload[typeIndex] as string ?? "?";
        long amount = amountIndex >= 0 ? Convert.ToInt64(eventData.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, old) => old + amount);
    }
}
