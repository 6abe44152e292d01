namespace Ataraxia.Local;

/// <summary>Settings of a <see cref="MachineLocalTransport"/>.</summary>
public sealed record MachineLocalTransportOptions
{
    /// <summary>Gets the rendezvous path every process of the machine-local mesh uses.</summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>: <c>Path.Combine(Path.GetTempPath(), networkName)</c>, as the JavaScript
    /// library does (WIRE.md §4.3). On Linux and macOS it is the path of the Unix domain socket (keep it under about
    /// 100 bytes, the limit of socket addresses); the leader also locks <c>&lt;path&gt;.leader</c>. On Windows it is
    /// the name of the named pipe.
    /// </remarks>
    public string? Path { get; init; }

    /// <summary>Gets the ceiling of the first pause before a follower retries (to connect or to become leader).</summary>
    /// <remarks>Defaults to 10 ms. Each failed attempt doubles the ceiling; every pause is random below it (full jitter).</remarks>
    public TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Gets the largest ceiling of the pause between retries.</summary>
    /// <remarks>Defaults to 250 ms, which bounds how long followers take to find a new leader.</remarks>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets the time a follower waits for the leader to accept a connection.</summary>
    /// <remarks>Defaults to 2 seconds.</remarks>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    internal void Validate()
    {
        if (Path is not null && string.IsNullOrWhiteSpace(Path))
        {
            throw new ArgumentException("The rendezvous path must not be empty.", nameof(Path));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RetryInitialDelay, TimeSpan.Zero, nameof(RetryInitialDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryMaxDelay, RetryInitialDelay, nameof(RetryMaxDelay));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
    }
}
