using Microsoft.Extensions.Logging;

namespace Ataraxia;

/// <summary>Options of <see cref="Services"/>.</summary>
public sealed record ServicesOptions
{
    /// <summary>Gets how long a call waits for its answer. Default: 60 s, as JavaScript's services wait.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets how many calls from this node may wait for an answer at once; further calls wait for a slot. Default: 16,384.</summary>
    public int MaxPendingCalls { get; init; } = 16_384;

    /// <summary>
    /// Gets how many calls from other nodes this node runs at once; a call beyond it is answered at once with an error
    /// instead of being queued. Default: 4,096.
    /// </summary>
    public int MaxConcurrentInvocations { get; init; } = 4_096;

    /// <summary>Gets the logger factory, or <see langword="null"/> to use the network's.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
