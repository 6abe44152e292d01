using System.IO.Pipelines;
using Ataraxia.Protocol;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Transport;

/// <summary>
/// A way for a <see cref="Network"/> to reach other nodes: TCP, machine-local sockets, WebSockets, an
/// in-memory switchboard. A transport only connects; it hands authenticated peer sessions to the network,
/// which owns routing.
/// </summary>
/// <remarks>
/// A transport instance belongs to one network. <see cref="StartAsync"/> is called when the network joins and
/// <see cref="StopAsync"/> when it leaves; between them the transport accepts and opens connections, creates a
/// session for each with <see cref="ITransportHost.CreateSession"/> and passes it to
/// <see cref="ITransportHost.AttachAsync"/>.
/// </remarks>
public interface ITransport
{
    /// <summary>Gets a short name for logs, for example <c>tcp</c>.</summary>
    string Name { get; }

    /// <summary>Starts accepting and opening connections for the network.</summary>
    /// <param name="host">The network's side of the contract.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>A task that completes once the transport runs.</returns>
    ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default);

    /// <summary>Stops the transport and closes the connections it made.</summary>
    /// <param name="cancellationToken">Stops waiting for a graceful close.</param>
    /// <returns>A task that completes once the transport stopped.</returns>
    ValueTask StopAsync(CancellationToken cancellationToken = default);
}

/// <summary>What a <see cref="Network"/> offers the transports it runs. Thread-safe.</summary>
public interface ITransportHost
{
    /// <summary>Gets the local node id.</summary>
    NodeId LocalId { get; }

    /// <summary>Gets the network name (used for discovery and rendezvous, never sent on the peer protocol).</summary>
    string NetworkName { get; }

    /// <summary>Gets a value indicating whether the node is an endpoint, which does not route for others.</summary>
    bool IsEndpoint { get; }

    /// <summary>Gets the logger factory of the network.</summary>
    ILoggerFactory LoggerFactory { get; }

    /// <summary>Gets the session settings of the network, including its authentication providers.</summary>
    PeerSessionOptions SessionOptions { get; }

    /// <summary>Creates a peer session over a new connection, with the network's settings.</summary>
    /// <param name="connection">The connection's byte streams.</param>
    /// <param name="role"><see cref="PeerRole.Server"/> for an accepted connection.</param>
    /// <param name="security">The channel's public security bytes, if it has any.</param>
    /// <param name="connectionName">A name for logs, for example the remote address.</param>
    /// <param name="configure">Adjusts the session settings for this transport, e.g. no BYE on WebSockets.</param>
    /// <returns>The session, not yet started.</returns>
    PeerSession CreateSession(
        IDuplexPipe connection,
        PeerRole role,
        PeerChannelSecurity? security = null,
        string? connectionName = null,
        Func<PeerSessionOptions, PeerSessionOptions>? configure = null);

    /// <summary>
    /// Starts a session, waits until it is authenticated and then hands it to the network for routing. When the
    /// session later ends, the network forgets it; watch <see cref="PeerSession.Completion"/> to reconnect.
    /// </summary>
    /// <param name="session">A session created by <see cref="CreateSession"/>.</param>
    /// <param name="cancellationToken">Cancels waiting (and ends the session).</param>
    /// <returns>The authenticated node id of the peer.</returns>
    /// <exception cref="PeerSessionClosedException">Negotiation or authentication failed; the reason says why.</exception>
    /// <exception cref="InvalidOperationException">The network is not joined.</exception>
    Task<NodeId> AttachAsync(PeerSession session, CancellationToken cancellationToken = default);
}
