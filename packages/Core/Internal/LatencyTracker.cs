namespace Ataraxia.Internal;

/// <summary>Keeps the last six round-trip samples and reports their floored mean in whole milliseconds (WIRE.md §8.2).</summary>
internal sealed class LatencyTracker
{
    private const int MaxSamples = 6;

    private readonly long[] _samples = new long[MaxSamples];
    private int _count;
    private int _next;

    public bool HasSamples => Volatile.Read(ref _count) > 0;

    public int Latency { get; private set; }

    public void Add(TimeSpan roundTrip)
    {
        long milliseconds = Math.Max(0, (long)roundTrip.TotalMilliseconds);
        lock (_samples)
        {
            _samples[_next] = milliseconds;
            _next = (_next + 1) % MaxSamples;
            _count = Math.Min(_count + 1, MaxSamples);
            long sum = 0;
            for (int i = 0; i < _count; i++)
            {
                sum += _samples[i];
            }

            Latency = (int)Math.Min(int.MaxValue, sum / _count);
        }
    }
}
