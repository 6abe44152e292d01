namespace Ataraxia.Transport;

/// <summary>
/// Exponential back-off with full jitter for transports that reconnect: each failure doubles a ceiling, from
/// <see cref="InitialDelay"/> up to <see cref="MaxDelay"/>, and the wait is a random time between zero and it.
/// </summary>
/// <remarks>
/// Full jitter spreads the reconnects of many nodes that lost the same peer at the same moment. Not thread-safe:
/// use one instance per reconnect loop.
/// </remarks>
public sealed class ReconnectBackoff
{
    private readonly Random _random;

    /// <summary>Creates a back-off.</summary>
    /// <param name="initialDelay">The ceiling after the first failure.</param>
    /// <param name="maxDelay">The largest ceiling.</param>
    /// <param name="random">The source of jitter; <see langword="null"/> for <see cref="Random.Shared"/>.</param>
    public ReconnectBackoff(TimeSpan initialDelay, TimeSpan maxDelay, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initialDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, initialDelay);
        InitialDelay = initialDelay;
        MaxDelay = maxDelay;
        _random = random ?? Random.Shared;
    }

    /// <summary>Gets the ceiling after the first failure.</summary>
    public TimeSpan InitialDelay { get; }

    /// <summary>Gets the largest ceiling.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>Gets the number of failures since the last <see cref="Reset"/>.</summary>
    public int Failures { get; private set; }

    /// <summary>Gets the ceiling of the next delay.</summary>
    public TimeSpan Ceiling => TimeSpan.FromMilliseconds(
        Math.Min(MaxDelay.TotalMilliseconds, InitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(Failures, 30))));

    /// <summary>Counts a failure and returns how long to wait before the next attempt.</summary>
    /// <returns>A random delay between zero and the current ceiling.</returns>
    public TimeSpan NextDelay()
    {
        TimeSpan delay = TimeSpan.FromMilliseconds(_random.NextDouble() * Ceiling.TotalMilliseconds);
        Failures++;
        return delay;
    }

    /// <summary>Starts over after a success.</summary>
    public void Reset() => Failures = 0;
}
