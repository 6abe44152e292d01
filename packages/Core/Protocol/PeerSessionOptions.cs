using Ataraxia.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia.Protocol;

/// <summary>Settings of peer sessions: timeouts, liveness, limits and authentication.</summary>
/// <remarks>The defaults match the JavaScript library (WIRE.md §14) where it defines a value.</remarks>
public sealed record PeerSessionOptions
{
    /// <summary>Gets the time each negotiation step may take.</summary>
    /// <remarks>Defaults to 5 seconds. The timer restarts at every step.</remarks>
    public TimeSpan NegotiationTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the interval between the PINGs a session sends once active.</summary>
    /// <remarks>
    /// Defaults to 30 seconds. JavaScript peers run an accrual failure detector over the intervals between
    /// received PINGs, so keep this steady: an early extra PING makes them drop the link (WIRE.md §8.1).
    /// </remarks>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets how often liveness is checked.</summary>
    /// <remarks>Defaults to 5 seconds.</remarks>
    public TimeSpan PingCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the longest time without a PING from the peer before the session ends.</summary>
    /// <remarks>Defaults to 90 seconds.</remarks>
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Gets a value indicating whether the adaptive accrual failure detector also decides liveness.</summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>, as in JavaScript: with a steady PING cadence it ends a session after
    /// about 1.1 intervals of silence, long before <see cref="PingTimeout"/>.
    /// </remarks>
    public bool UseAccrualFailureDetector { get; init; } = true;

    /// <summary>Gets the largest peer message accepted or sent, in bytes.</summary>
    /// <remarks>Defaults to 16 MiB. A larger frame from the peer ends the session with a protocol error.</remarks>
    public long MaxFrameSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Gets the number of outgoing messages that may wait for the writer before senders wait.</summary>
    /// <remarks>Defaults to 1024.</remarks>
    public int OutboundQueueCapacity { get; init; } = 1024;

    /// <summary>Gets the number of received messages that may wait for the consumer before reading pauses.</summary>
    /// <remarks>Defaults to 1024. A full queue stops the read loop, which pushes back on the sender.</remarks>
    public int InboundQueueCapacity { get; init; } = 1024;

    /// <summary>Gets the number of AUTH attempts a server allows on one connection.</summary>
    /// <remarks>Defaults to 8.</remarks>
    public int MaxAuthAttempts { get; init; } = 8;

    /// <summary>Gets the authentication providers, in the order a client offers them.</summary>
    /// <remarks>Defaults to <see cref="AnonymousAuth"/> only.</remarks>
    public IReadOnlyList<IAuthProvider> AuthProviders { get; init; } = [AnonymousAuth.Instance];

    /// <summary>Gets a value indicating whether a local close sends BYE first.</summary>
    /// <remarks>Defaults to <see langword="true"/> (stream transports). WebSocket and machine-local peers close without BYE.</remarks>
    public bool SendByeOnClose { get; init; } = true;

    /// <summary>Gets a value indicating whether messages with an unknown tag are ignored instead of ending the session.</summary>
    /// <remarks>Defaults to <see langword="false"/>; JavaScript WebSocket peers ignore them, stream peers do not.</remarks>
    public bool IgnoreUnknownMessageTypes { get; init; }

    /// <summary>Gets the time a graceful close waits for the peer to close its side.</summary>
    /// <remarks>Defaults to 5 seconds.</remarks>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the clock used for timers and latency.</summary>
    /// <remarks>Defaults to <see cref="TimeProvider.System"/>.</remarks>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the logger factory.</summary>
    /// <remarks>Defaults to <see cref="NullLoggerFactory.Instance"/>.</remarks>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(NegotiationTimeout, TimeSpan.Zero, nameof(NegotiationTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PingInterval, TimeSpan.Zero, nameof(PingInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PingCheckInterval, TimeSpan.Zero, nameof(PingCheckInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PingTimeout, TimeSpan.Zero, nameof(PingTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameSize, 64, nameof(MaxFrameSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFrameSize, PeerMessageCodec.MaxEncodableFrameLength, nameof(MaxFrameSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(OutboundQueueCapacity, 1, nameof(OutboundQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(InboundQueueCapacity, 1, nameof(InboundQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAuthAttempts, 1, nameof(MaxAuthAttempts));
        ArgumentNullException.ThrowIfNull(AuthProviders, nameof(AuthProviders));
        if (AuthProviders.Count == 0)
        {
            throw new ArgumentException("At least one authentication provider is required.", nameof(AuthProviders));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(LoggerFactory, nameof(LoggerFactory));
    }
}
