namespace Ataraxia.Internal;

/// <summary>
/// The adaptive accrual failure detector JavaScript peers use (WIRE.md §8.1): keeps the intervals between
/// heartbeats and suspects failure when at least <c>threshold</c> of them are no longer than
/// <c>scaling × time since the last heartbeat</c>.
/// </summary>
internal sealed class AccrualFailureDetector
{
    private const int MaxSamples = 1000;
    private const double Threshold = 0.5;
    private const double Scaling = 0.9;

    private readonly Queue<long> _intervals = new();
    private long _lastHeartbeat = -1;

    public void Heartbeat(long timestampMilliseconds)
    {
        if (_lastHeartbeat >= 0)
        {
            _intervals.Enqueue(timestampMilliseconds - _lastHeartbeat);
            if (_intervals.Count > MaxSamples)
            {
                _intervals.Dequeue();
            }
        }

        _lastHeartbeat = timestampMilliseconds;
    }

    public bool IsSuspected(long nowMilliseconds)
    {
        if (_lastHeartbeat < 0 || _intervals.Count == 0)
        {
            return false;
        }

        double limit = Scaling * (nowMilliseconds - _lastHeartbeat);
        int below = 0;
        foreach (long interval in _intervals)
        {
            if (interval <= limit)
            {
                below++;
            }
        }

        return (double)below / _intervals.Count >= Threshold;
    }
}
