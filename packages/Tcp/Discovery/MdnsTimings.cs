namespace Ataraxia.Tcp.Discovery;

/// <summary>The delays of RFC 6762; tests shorten them.</summary>
internal sealed record MdnsTimings
{
    public static MdnsTimings Default { get; } = new();

    /// <summary>Gets the longest random wait before the first probe (§8.1).</summary>
    public TimeSpan ProbeDelayMax { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets the time between probes, and after the last one (§8.1).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets the number of probes (§8.1).</summary>
    public int ProbeCount { get; init; } = 3;

    /// <summary>Gets the wait after losing a simultaneous-probe tie-break (§8.2).</summary>
    public TimeSpan ProbeTieBreakDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the waits before each announcement (§8.3): at 0, 1 s and 3 s.</summary>
    public IReadOnlyList<TimeSpan> AnnounceDelays { get; init; } = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    /// <summary>Gets the shortest random delay of a multicast answer holding shared records (§6).</summary>
    public TimeSpan ResponseDelayMin { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Gets the longest random delay of a multicast answer holding shared records (§6).</summary>
    public TimeSpan ResponseDelayMax { get; init; } = TimeSpan.FromMilliseconds(120);

    /// <summary>Gets the time between the two goodbye packets (as the JavaScript library sends them).</summary>
    public TimeSpan GoodbyeInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets the first interval between browse queries (§5.2), which then doubles.</summary>
    public TimeSpan QueryInitialInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the longest interval between browse queries (§5.2).</summary>
    public TimeSpan QueryMaxInterval { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Gets how long a goodbye or flushed record stays in the cache (§10.1, §10.2).</summary>
    public TimeSpan ExpiryGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the least time between two queries resolving the same instance.</summary>
    public TimeSpan ResolveRetryInterval { get; init; } = TimeSpan.FromSeconds(1);
}
