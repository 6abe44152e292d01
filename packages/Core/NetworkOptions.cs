using System.Threading.Channels;
using Ataraxia.Authentication;
using Ataraxia.Protocol;
using Ataraxia.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia;

/// <summary>Settings of a <see cref="Network"/>.</summary>
public sealed record NetworkOptions
{
    /// <summary>Gets the network name. It selects where peers are looked for (discovery, local rendezvous); it is not sent to peers.</summary>
    /// <remarks>Required.</remarks>
    public required string Name { get; init; }

    /// <summary>Gets a value indicating whether this node is an endpoint: it reaches the mesh but never routes for other nodes.</summary>
    /// <remarks>Defaults to <see langword="false"/>.</remarks>
    public bool Endpoint { get; init; }

    /// <summary>Gets the transports the node connects through.</summary>
    /// <remarks>Defaults to none. A transport instance belongs to one network.</remarks>
    public IReadOnlyList<ITransport> Transports { get; init; } = [];

    /// <summary>Gets the authentication providers, in the order this node offers them as a client.</summary>
    /// <remarks>Defaults to <see cref="AnonymousAuth"/>: anyone who reaches a transport may join.</remarks>
    public IReadOnlyList<IAuthProvider> Authentication { get; init; } = [AnonymousAuth.Instance];

    /// <summary>Gets the per-connection settings (timeouts, ping cadence, frame and queue limits).</summary>
    /// <remarks>Its <see cref="PeerSessionOptions.AuthProviders"/> and logger factory are replaced by this record's.</remarks>
    public PeerSessionOptions Session { get; init; } = new();

    /// <summary>Gets the time the next hop has to acknowledge a DATA message.</summary>
    /// <remarks>Defaults to 5 seconds, as in JavaScript; forwarded messages are remembered as long.</remarks>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the largest number of hops a message may take; longer paths are rejected.</summary>
    /// <remarks>Defaults to 64.</remarks>
    public int MaxPathLength { get; init; } = 64;

    /// <summary>Gets the number of sends that may wait for an acknowledgement at once; more sends wait for a slot.</summary>
    /// <remarks>Defaults to 4096.</remarks>
    public int MaxPendingSends { get; init; } = 4096;

    /// <summary>
    /// Gets how long a message from a node this node does not know yet is kept, waiting for the topology to name its sender
    /// (a newly joined node behind routers can send before this node has heard of it). <see cref="TimeSpan.Zero"/> drops such
    /// messages at once, as JavaScript does.
    /// </summary>
    /// <remarks>Defaults to 2 seconds. At most <see cref="MaxHeldMessages"/> messages are kept; beyond that they are dropped.</remarks>
    public TimeSpan UnknownSourceHoldTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets how many messages from unknown senders are kept at once (see <see cref="UnknownSourceHoldTime"/>).</summary>
    /// <remarks>Defaults to 256.</remarks>
    public int MaxHeldMessages { get; init; } = 256;

    /// <summary>Gets the number of messages <see cref="Network.ReadMessagesAsync"/> buffers.</summary>
    /// <remarks>Defaults to 1024.</remarks>
    public int IncomingMessageCapacity { get; init; } = 1024;

    /// <summary>Gets what happens when the incoming message buffer is full.</summary>
    /// <remarks>
    /// Defaults to <see cref="BoundedChannelFullMode.DropOldest"/>: a reader that falls behind loses the oldest
    /// messages and never stalls routing. <see cref="BoundedChannelFullMode.Wait"/> pushes back on the connection
    /// the message came from instead, which also delays what that connection carries for other nodes.
    /// </remarks>
    public BoundedChannelFullMode IncomingMessageFullMode { get; init; } = BoundedChannelFullMode.DropOldest;

    /// <summary>Gets the delay that coalesces topology changes before routes are recomputed and announced.</summary>
    /// <remarks>Defaults to 100 ms, as in JavaScript.</remarks>
    public TimeSpan TopologyBroadcastDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets the interval of latency gossip to a random peer.</summary>
    /// <remarks>Defaults to 30 seconds, as in JavaScript.</remarks>
    public TimeSpan LatencyGossipInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets the interval at which group membership is re-queried from a random node.</summary>
    /// <remarks>Defaults to 15 seconds, as in JavaScript.</remarks>
    public TimeSpan GroupQueryInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets the clock.</summary>
    /// <remarks>Defaults to <see cref="TimeProvider.System"/>.</remarks>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the logger factory.</summary>
    /// <remarks>Defaults to <see cref="NullLoggerFactory.Instance"/>.</remarks>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name, nameof(Name));
        ArgumentNullException.ThrowIfNull(Transports, nameof(Transports));
        ArgumentNullException.ThrowIfNull(Authentication, nameof(Authentication));
        ArgumentNullException.ThrowIfNull(Session, nameof(Session));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AckTimeout, TimeSpan.Zero, nameof(AckTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPathLength, 2, nameof(MaxPathLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingSends, 1, nameof(MaxPendingSends));
        ArgumentOutOfRangeException.ThrowIfLessThan(UnknownSourceHoldTime, TimeSpan.Zero, nameof(UnknownSourceHoldTime));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeldMessages, 0, nameof(MaxHeldMessages));
        ArgumentOutOfRangeException.ThrowIfLessThan(IncomingMessageCapacity, 1, nameof(IncomingMessageCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(TopologyBroadcastDelay, TimeSpan.Zero, nameof(TopologyBroadcastDelay));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(LatencyGossipInterval, TimeSpan.Zero, nameof(LatencyGossipInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(GroupQueryInterval, TimeSpan.Zero, nameof(GroupQueryInterval));
        if (Authentication.Count == 0)
        {
            throw new ArgumentException("At least one authentication provider is required.", nameof(Authentication));
        }
    }
}
