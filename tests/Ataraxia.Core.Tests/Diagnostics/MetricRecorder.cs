using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Ataraxia.Tests.Diagnostics;

/// <summary>
/// Records the measurements of the <c>Ataraxia</c> meter for the networks whose name starts with a prefix. A listener
/// sees every meter of the process, so tests running in parallel stay apart by giving their networks a unique name.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _prefix;
    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private readonly Lock _observeLock = new();

    public MetricRecorder(string networkPrefix)
    {
        _prefix = networkPrefix;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Network.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Gets every measurement recorded so far, observations included.</summary>
    public IReadOnlyList<Measurement> All => [.. _measurements];

    /// <summary>Gets the sum of a counter's measurements whose tags match.</summary>
    public double Sum(string instrument, string? network = null, string? transport = null, string? errorType = null) =>
        Matching(instrument, network, transport, errorType).Sum(m => m.Value);

    /// <summary>Gets the number of measurements of an instrument whose tags match (for a histogram, the samples).</summary>
    public int Count(string instrument, string? network = null, string? transport = null) =>
        Matching(instrument, network, transport, null).Count();

    /// <summary>Gets the measurements of an instrument whose tags match.</summary>
    public IEnumerable<Measurement> Matching(string instrument, string? network = null, string? transport = null, string? errorType = null) =>
        _measurements.Where(m => m.Instrument == instrument
            && (network is null || m.Network == network)
            && (transport is null || Equals(m.Tags.GetValueOrDefault("ataraxia.transport"), transport))
            && (errorType is null || Equals(m.Tags.GetValueOrDefault("error.type"), errorType)));

    /// <summary>Collects the observable instruments now and returns what they reported for the matching networks.</summary>
    public IReadOnlyList<Measurement> Observe(string instrument)
    {
        lock (_observeLock)
        {
            int before = _measurements.Count;
            _listener.RecordObservableInstruments();
            return [.. _measurements.Skip(before).Where(m => m.Instrument == instrument)];
        }
    }

    /// <summary>Gets the value an observable instrument reports now for one network (and transport), or <see langword="null"/> if it reports none.</summary>
    public double? ObserveValue(string instrument, string network, string? transport = null)
    {
        Measurement[] values = [.. Observe(instrument).Where(m => m.Network == network && (transport is null || Equals(m.Tags.GetValueOrDefault("ataraxia.transport"), transport)))];
        return values.Length == 0 ? null : values.Sum(m => m.Value);
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? network = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "ataraxia.network")
            {
                network = tag.Value as string;
            }
        }

        if (network is not null && network.StartsWith(_prefix, StringComparison.Ordinal))
        {
            _measurements.Enqueue(new Measurement(instrument.Name, instrument.Unit, value, network, new Dictionary<string, object?>(tags.ToArray())));
        }
    }

    public sealed record Measurement(string Instrument, string? Unit, double Value, string Network, IReadOnlyDictionary<string, object?> Tags);
}
