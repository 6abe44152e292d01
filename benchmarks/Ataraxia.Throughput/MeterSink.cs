using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ataraxia.Throughput;

/// <summary>
/// For <c>--metrics</c>: listens to every instrument of the <c>Ataraxia</c> meter, as <c>dotnet-counters</c> or an
/// OpenTelemetry exporter would, so that a row measures what the instruments cost when somebody listens. Each instrument
/// adds into a total of its own; recording allocates nothing here.
/// </summary>
public sealed class MeterSink : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, StrongBox<double>> _totals = new(StringComparer.Ordinal);

    public MeterSink()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Network.MeterName)
            {
                var total = new StrongBox<double>();
                lock (_totals)
                {
                    _totals[instrument.Name] = total;
                }

                listener.EnableMeasurementEvents(instrument, total);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, _, state) => Add((StrongBox<double>)state!, value));
        _listener.SetMeasurementEventCallback<double>(static (_, value, _, state) => Add((StrongBox<double>)state!, value));
        _listener.Start();
    }

    /// <summary>Gets the totals so far, one line.</summary>
    public string Summary()
    {
        _listener.RecordObservableInstruments();
        lock (_totals)
        {
            return string.Join(", ", _totals.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value.Value:N0}")));
        }
    }

    public void Dispose() => _listener.Dispose();

    private static void Add(StrongBox<double> total, double value)
    {
        // Measurements come from several threads at once.
        double seen = Volatile.Read(ref total.Value);
        while (true)
        {
            double found = Interlocked.CompareExchange(ref total.Value, seen + value, seen);
            if (found.Equals(seen))
            {
                return;
            }

            seen = found;
        }
    }
}
