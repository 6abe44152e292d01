using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Ataraxia.Authentication;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp;

/// <summary>Settings of a <see cref="TcpTransport"/>.</summary>
public sealed record TcpTransportOptions
{
    /// <summary>Gets the addresses to listen on.</summary>
    /// <remarks>
    /// Defaults to empty, meaning every interface: IPv6 any in dual mode (which also accepts IPv4), or IPv4 any
    /// where IPv6 is not available. Endpoint nodes never listen.
    /// </remarks>
    public IReadOnlyList<IPAddress> BindAddresses { get; init; } = [];

    /// <summary>Gets the port to listen on; 0 lets the system pick one (read it from <see cref="TcpTransport.Port"/>).</summary>
    /// <remarks>Defaults to 0.</remarks>
    public int Port { get; init; }

    /// <summary>Gets a value indicating whether the transport accepts connections.</summary>
    /// <remarks>Defaults to <see langword="true"/>; endpoint nodes never listen regardless.</remarks>
    public bool Listen { get; init; } = true;

    /// <summary>Gets the peers to connect to from the start; more can be added with <see cref="TcpTransport.AddPeer(string, int)"/>.</summary>
    /// <remarks>Defaults to none.</remarks>
    public IReadOnlyList<DnsEndPoint> Peers { get; init; } = [];

    /// <summary>Gets the TLS settings, or <see langword="null"/> for plaintext.</summary>
    /// <remarks>
    /// Defaults to TLS with ephemeral certificates. Plaintext carries authentication proofs and every message in
    /// the clear and binds nothing to the channel: use it only on trusted networks, or to talk to peers that
    /// cannot speak TLS.
    /// </remarks>
    public TcpTlsOptions? Tls { get; init; } = new();

    /// <summary>Gets the authentication providers for this transport's connections, or <see langword="null"/> to use the network's.</summary>
    /// <remarks>Defaults to <see langword="null"/>.</remarks>
    public IReadOnlyList<IAuthProvider>? Authentication { get; init; }

    /// <summary>Gets the largest peer message on this transport's connections, or <see langword="null"/> for the network's setting.</summary>
    /// <remarks>Defaults to <see langword="null"/> (the network's 16 MiB unless changed).</remarks>
    public long? MaxFrameSize { get; init; }

    /// <summary>Gets the time each negotiation step may take on this transport's connections, or <see langword="null"/> for the network's setting.</summary>
    /// <remarks>Defaults to <see langword="null"/> (the network's 5 s unless changed).</remarks>
    public TimeSpan? NegotiationTimeout { get; init; }

    /// <summary>Gets the most connections (accepted and opened) the transport keeps at once.</summary>
    /// <remarks>Defaults to 1024. Accepted connections beyond it are closed at once.</remarks>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Gets the most accepted connections that may be negotiating (TLS or Ataraxia) at once.</summary>
    /// <remarks>Defaults to 64. Beyond it, new connections are closed at once, so a flood of idle sockets cannot starve real peers.</remarks>
    public int MaxPendingConnections { get; init; } = 64;

    /// <summary>Gets the time a connection has for its TLS handshake.</summary>
    /// <remarks>Defaults to 5 seconds. Ataraxia negotiation then has the network's negotiation timeout per step.</remarks>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the first reconnection delay.</summary>
    /// <remarks>Defaults to 100 ms. Each failed round doubles it, up to <see cref="ReconnectMaxDelay"/>; the actual wait is random between zero and that value (full jitter).</remarks>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets the longest reconnection delay.</summary>
    /// <remarks>Defaults to 30 seconds.</remarks>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets a source of peers found at run time (such as mDNS), or <see langword="null"/>.</summary>
    /// <remarks>Defaults to none.</remarks>
    public ITcpPeerDiscovery? Discovery { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(BindAddresses, nameof(BindAddresses));
        ArgumentNullException.ThrowIfNull(Peers, nameof(Peers));
        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 0, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingConnections, 1, nameof(MaxPendingConnections));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero, nameof(HandshakeTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ReconnectInitialDelay, TimeSpan.Zero, nameof(ReconnectInitialDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectMaxDelay, ReconnectInitialDelay, nameof(ReconnectMaxDelay));
        if (Authentication is { Count: 0 })
        {
            throw new ArgumentException("Give at least one authentication provider, or null to use the network's.", nameof(Authentication));
        }
    }
}

/// <summary>TLS settings of a <see cref="TcpTransport"/>. Both sides always present a certificate (mutual TLS).</summary>
public sealed record TcpTlsOptions
{
    /// <summary>Gets the certificate (with private key) this node presents, or <see langword="null"/> for ephemeral ones.</summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>: self-signed ECDSA P-256 certificates are generated at start, one for
    /// accepting and one for connecting, and any peer certificate is accepted. Identity then comes from Ataraxia
    /// authentication, whose proofs are bound to the certificates' public keys, so a relay that terminates TLS
    /// on both sides fails authentication. With a certificate of your own, peers are validated as below.
    /// </remarks>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>Gets the SHA-256 (or SHA-1) thumbprints of the peer certificates to accept, in hex; other certificates are refused.</summary>
    /// <remarks>Defaults to none. Used only with <see cref="Certificate"/>; takes precedence over chain validation.</remarks>
    public IReadOnlyCollection<string> AllowedThumbprints { get; init; } = [];

    /// <summary>Gets a callback that decides whether a peer certificate is acceptable.</summary>
    /// <remarks>
    /// Defaults to none: with <see cref="Certificate"/> set and no thumbprints, the system's chain validation
    /// decides (name mismatches are ignored, since peers are reached by address).
    /// </remarks>
    public RemoteCertificateValidationCallback? ValidatePeerCertificate { get; init; }

    /// <summary>Gets the allowed protocol versions.</summary>
    /// <remarks>Defaults to TLS 1.3 and TLS 1.2.</remarks>
    public SslProtocols Protocols { get; init; } = SslProtocols.Tls13 | SslProtocols.Tls12;
}

/// <summary>A source of TCP peers found at run time, for example mDNS/DNS-SD on the local network.</summary>
public interface ITcpPeerDiscovery
{
    /// <summary>Starts discovering; call <paramref name="context"/> as peers appear and disappear.</summary>
    /// <param name="context">What the transport offers the discovery.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>A task that completes when discovery runs.</returns>
    ValueTask StartAsync(TcpDiscoveryContext context, CancellationToken cancellationToken = default);

    /// <summary>Stops discovering.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when discovery stopped.</returns>
    ValueTask StopAsync(CancellationToken cancellationToken = default);
}

/// <summary>What a <see cref="TcpTransport"/> offers its <see cref="ITcpPeerDiscovery"/>.</summary>
public sealed class TcpDiscoveryContext
{
    private readonly Func<int> _port;
    private readonly Action<DnsEndPoint> _addPeer;
    private readonly Action<DnsEndPoint> _removePeer;

    internal TcpDiscoveryContext(TcpTransport transport, NodeId localId, string networkName, bool isTls, ILoggerFactory loggerFactory)
        : this(localId, networkName, isTls, loggerFactory, () => transport.Port, transport.AddPeer, endPoint => transport.RemovePeer(endPoint))
    {
    }

    // Also used by discovery tests, which have no transport.
    internal TcpDiscoveryContext(NodeId localId, string networkName, bool isTls, ILoggerFactory loggerFactory, Func<int> port, Action<DnsEndPoint> addPeer, Action<DnsEndPoint> removePeer)
    {
        _port = port;
        _addPeer = addPeer;
        _removePeer = removePeer;
        LoggerFactory = loggerFactory;
        LocalId = localId;
        NetworkName = networkName;
        IsTls = isTls;
    }

    /// <summary>Gets the local node id.</summary>
    public NodeId LocalId { get; }

    /// <summary>Gets the network's logger factory.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Gets the network name.</summary>
    public string NetworkName { get; }

    /// <summary>Gets a value indicating whether the transport speaks TLS (discovery announces which security it speaks).</summary>
    public bool IsTls { get; }

    /// <summary>Gets the port the transport listens on, or 0 if it does not.</summary>
    public int Port => _port();

    /// <summary>Starts connecting to a discovered peer (no-op if already known).</summary>
    /// <param name="endPoint">The peer.</param>
    public void AddPeer(DnsEndPoint endPoint) => _addPeer(endPoint);

    /// <summary>Stops connecting to a peer that went away.</summary>
    /// <param name="endPoint">The peer.</param>
    public void RemovePeer(DnsEndPoint endPoint) => _removePeer(endPoint);
}
