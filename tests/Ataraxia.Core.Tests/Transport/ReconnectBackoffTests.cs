using Ataraxia.Transport;

namespace Ataraxia.Tests.Transport;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void The_ceiling_doubles_per_failure_up_to_the_maximum_and_delays_stay_below_it()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(1));
        double[] ceilings = new double[12];
        for (int i = 0; i < ceilings.Length; i++)
        {
            ceilings[i] = backoff.Ceiling.TotalMilliseconds;
            TimeSpan delay = backoff.NextDelay();
            Assert.InRange(delay.TotalMilliseconds, 0, ceilings[i]);
        }

        Assert.Equal([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000], ceilings);
        Assert.Equal(12, backoff.Failures);
    }

    [Fact]
    public void Delays_are_spread_over_the_whole_range()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), new Random(2));
        double[] delays = [.. Enumerable.Range(0, 1000).Select(_ => backoff.NextDelay().TotalMilliseconds)];

        // Full jitter: uniform over [0, ceiling], so both ends of the range are used.
        Assert.Contains(delays, d => d < 100);
        Assert.Contains(delays, d => d > 900);
        Assert.InRange(delays.Average(), 400, 600);
    }

    [Fact]
    public void Reset_starts_over_from_the_initial_delay()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30));
        for (int i = 0; i < 5; i++)
        {
            backoff.NextDelay();
        }

        backoff.Reset();

        Assert.Equal(0, backoff.Failures);
        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.Ceiling);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectBackoff(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
    }
}
