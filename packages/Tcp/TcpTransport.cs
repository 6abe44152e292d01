using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Ataraxia.Protocol;
using Ataraxia.Tcp.Internal;
using Ataraxia.Transport;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp;

/// <summary>
/// Connects a network to other nodes over TCP: listens for peers, dials the peers it is given (and those a
/// discovery finds), and reconnects with back-off. TLS is on by default.
/// </summary>
/// <remarks>
/// <para>
/// With the default ephemeral certificates any peer may complete the TLS handshake; who may join is decided by
/// the network's authentication, whose proofs are bound to the certificates' public keys (WIRE.md §6.3). Use
/// <see cref="Ataraxia.Authentication.SharedSecretAuth"/> or your own provider: anonymous authentication over TLS encrypts, but admits
/// anyone who can reach the port.
/// </para>
/// <para>
/// When two nodes dial each other at the same time, the connection opened by the node with the lower id is kept
/// and the other closed, on both sides alike. All members are thread-safe.
/// </para>
/// </remarks>
public sealed class TcpTransport : ITransport, IAsyncDisposable
{
    private readonly TcpTransportOptions _options;
    private readonly Lock _lock = new();
    private readonly Dictionary<DnsEndPoint, CancellationTokenSource> _peers = [];
    private readonly Dictionary<NodeId, List<Attached>> _sessions = [];
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly List<Task> _dialLoops = [];
    private CancellationTokenSource? _stopping;
    private ITransportHost? _host;
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private TlsIdentity? _tls;
    private int _connections;
    private int _pending;
    private int _port;

    /// <summary>Creates a TCP transport.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults (TLS, every interface, a port the system picks).</param>
    public TcpTransport(TcpTransportOptions? options = null)
    {
        _options = options ?? new TcpTransportOptions();
        _options.Validate();
        foreach (DnsEndPoint peer in _options.Peers)
        {
            _peers[peer] = new CancellationTokenSource();
        }
    }

    /// <inheritdoc />
    public string Name => "tcp";

    /// <summary>Gets the port the transport listens on once started (0 when it does not listen).</summary>
    public int Port => Volatile.Read(ref _port);

    /// <summary>Gets the addresses the transport listens on once started.</summary>
    public IReadOnlyList<IPEndPoint> LocalEndPoints
    {
        get
        {
            lock (_lock)
            {
                return [.. _listeners.Select(l => (IPEndPoint)l.LocalEndPoint!)];
            }
        }
    }

    /// <summary>Gets the number of open connections, authenticated or not.</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>Connects to a peer, and keeps reconnecting while it is listed. The host name is resolved on every attempt.</summary>
    /// <param name="host">Host name or address.</param>
    /// <param name="port">Port.</param>
    public void AddPeer(string host, int port) => AddPeer(new DnsEndPoint(host, port));

    /// <summary>Connects to a peer, and keeps reconnecting while it is listed.</summary>
    /// <param name="endPoint">The peer.</param>
    public void AddPeer(DnsEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        lock (_lock)
        {
            if (_peers.ContainsKey(endPoint))
            {
                return;
            }

            var cancellation = new CancellationTokenSource();
            _peers[endPoint] = cancellation;
            if (_stopping is not null)
            {
                StartDialing(endPoint, cancellation);
            }
        }
    }

    /// <summary>Stops connecting to a peer; an existing connection to it stays until it ends.</summary>
    /// <param name="endPoint">The peer.</param>
    /// <returns><see langword="true"/> if the peer was listed.</returns>
#pragma warning disable VSTHRD103 // Cancelling only signals the dial loop; nothing blocks on it.
    public bool RemovePeer(DnsEndPoint endPoint)
    {
        CancellationTokenSource? cancellation;
        lock (_lock)
        {
            if (!_peers.Remove(endPoint, out cancellation))
            {
                return false;
            }
        }

        // The dial loop observes the token; disposing is left to the collector since the loop may still hold it.
        cancellation.Cancel();
        return true;
    }
#pragma warning restore VSTHRD103

    /// <inheritdoc />
    public async ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_lock)
        {
            if (_host is not null)
            {
                throw new InvalidOperationException("A TCP transport serves one network and starts once.");
            }

            _host = host;
            _logger = host.LoggerFactory.CreateLogger<TcpTransport>();
            _stopping = new CancellationTokenSource();
        }

        if (_options.Tls is null)
        {
            Log.Plaintext(_logger);
        }
        else
        {
            _tls = new TlsIdentity(_options.Tls);
        }

        if (_options.Listen && !host.IsEndpoint)
        {
            Listen();
        }

        lock (_lock)
        {
            foreach ((DnsEndPoint peer, CancellationTokenSource cancellation) in _peers)
            {
                StartDialing(peer, cancellation);
            }
        }

        if (_options.Discovery is { } discovery)
        {
            await discovery.StartAsync(new TcpDiscoveryContext(this, host.LocalId, host.NetworkName, _tls is not null, host.LoggerFactory), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        CancellationTokenSource? stopping;
        Task[] loops;
        CancellationTokenSource[] peers;
        lock (_lock)
        {
            stopping = _stopping;
            if (stopping is null || stopping.IsCancellationRequested)
            {
                return;
            }

            foreach (Socket listener in _listeners)
            {
                listener.Close();
            }

            peers = [.. _peers.Values];
            loops = [.. _acceptLoops];
        }

        foreach (CancellationTokenSource peer in peers)
        {
            await peer.CancelAsync().ConfigureAwait(false);
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        if (_options.Discovery is { } discovery)
        {
            await discovery.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        // Accept loops end at once. Dial loops end when their session does, which the network closes after
        // stopping its transports: waiting for them here would wait for ourselves.
        await Task.WhenAll(loops).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the transport.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Task[] dialLoops;
        lock (_lock)
        {
            dialLoops = [.. _dialLoops];
        }

        try
        {
            await Task.WhenAll(dialLoops).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A session the network still runs keeps its loop; it ends with the session.
        }

        _tls?.Dispose();
    }

    private void Listen()
    {
        IReadOnlyList<IPAddress> addresses = _options.BindAddresses;
        if (addresses.Count == 0)
        {
            addresses = [Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any];
        }

        int port = _options.Port;
        foreach (IPAddress address in addresses)
        {
            var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (address.Equals(IPAddress.IPv6Any))
                {
                    listener.DualMode = true;
                }

                listener.Bind(new IPEndPoint(address, port));
                listener.Listen(512);
            }
            catch
            {
                listener.Dispose();
                throw;
            }

            // With several addresses and port 0, they all share the port the first one got.
            port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            Volatile.Write(ref _port, port);
            lock (_lock)
            {
                _listeners.Add(listener);
                _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener)));
            }

            Log.Listening(_logger, listener.LocalEndPoint!, _tls is null ? "plaintext" : "TLS");
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        CancellationToken stopping = _stopping!.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stopping.IsCancellationRequested || ex is ObjectDisposedException)
                {
                    return;
                }

                continue;
            }

            if (Volatile.Read(ref _connections) >= _options.MaxConnections || Volatile.Read(ref _pending) >= _options.MaxPendingConnections)
            {
                Log.Refused(_logger, socket.RemoteEndPoint, "too many connections");
                socket.Close(0);
                continue;
            }

            // Counted here, before the next accept, so a burst of connections cannot slip past the limits.
            Interlocked.Increment(ref _connections);
            Interlocked.Increment(ref _pending);
            _ = Task.Run(() => RunAcceptedAsync(socket, stopping), CancellationToken.None);
        }
    }

    private async Task RunAcceptedAsync(Socket socket, CancellationToken stopping)
    {
        string name = $"tcp {socket.RemoteEndPoint}";
        bool pending = true;
        StreamPipeConnection? connection = null;
        try
        {
            socket.NoDelay = true;
            (Stream stream, PeerChannelSecurity? security) = await SecureAsync(socket, PeerRole.Server, stopping).ConfigureAwait(false);
            connection = new StreamPipeConnection(stream, socket, MaxBufferedBytes);
            PeerSession session = _host!.CreateSession(connection, PeerRole.Server, security, name, ConfigureSession);
            NodeId remote = await _host.AttachAsync(session, stopping).ConfigureAwait(false);
            Interlocked.Decrement(ref _pending);
            pending = false;
            await RunSessionAsync(session, remote, PeerRole.Server).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.HandshakeFailed(_logger, name, ex);
        }
        finally
        {
            if (pending)
            {
                Interlocked.Decrement(ref _pending);
            }

            await CloseAsync(connection, socket).ConfigureAwait(false);
            Interlocked.Decrement(ref _connections);
        }
    }

    private void StartDialing(DnsEndPoint peer, CancellationTokenSource cancellation)
    {
        CancellationToken token = CancellationTokenSource.CreateLinkedTokenSource(cancellation.Token, _stopping!.Token).Token;
        _dialLoops.Add(Task.Run(() => DialLoopAsync(peer, token), CancellationToken.None));
    }

    private async Task DialLoopAsync(DnsEndPoint peer, CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff(_options.ReconnectInitialDelay, _options.ReconnectMaxDelay);
        bool authFailureLogged = false;
        IPAddress? lastGood = null;
        TimeProvider time = _host!.SessionOptions.TimeProvider;
        while (!cancellationToken.IsCancellationRequested)
        {
            bool lasted = false;
            foreach (IPAddress address in await ResolveAsync(peer, lastGood, cancellationToken).ConfigureAwait(false))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    long started = time.GetTimestamp();
                    NodeId remote = await DialAsync(peer, address, cancellationToken).ConfigureAwait(false);
                    lastGood = address;

                    // Only a session that lasted resets the back-off: one that ended at once is retried like a failure.
                    lasted = time.GetElapsedTime(started) > TimeSpan.FromSeconds(1);

                    // While another connection to the same node lives (e.g. the one it opened to us, kept when both
                    // sides dialled at once), dialling again would only be closed as a duplicate: wait for it to end.
                    await WaitForOtherSessionsAsync(remote, cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (PeerSessionClosedException ex) when (ex.Reason == PeerDisconnectReason.AuthenticationFailed)
                {
                    if (!authFailureLogged)
                    {
                        Log.AuthenticationRejected(_logger, peer, ex);
                        authFailureLogged = true;
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Log.ConnectFailed(_logger, peer, address, ex.Message);
                }
            }

            if (lasted)
            {
                // A lasting session ended: reconnect at once (the same address first), with a fresh back-off.
                backoff.Reset();
                authFailureLogged = false;
                continue;
            }

            TimeSpan delay = backoff.NextDelay();
            Log.Backoff(_logger, peer, delay);
            try
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WaitForOtherSessionsAsync(NodeId remote, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task? other;
            lock (_lock)
            {
                other = _sessions.TryGetValue(remote, out List<Attached>? list)
                    ? list.Select(a => a.Session).FirstOrDefault(s => s.DisconnectReason == PeerDisconnectReason.None)?.Completion
                    : null;
            }

            if (other is null)
            {
                return;
            }

            await other.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IPAddress[]> ResolveAsync(DnsEndPoint peer, IPAddress? preferred, CancellationToken cancellationToken)
    {
        try
        {
            IPAddress[] addresses = IPAddress.TryParse(peer.Host, out IPAddress? literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(peer.Host, cancellationToken).ConfigureAwait(false);

            // The address that worked last time goes first; then IPv4 before IPv6, as JavaScript orders them.
            return [.. addresses.OrderBy(a => a.Equals(preferred) ? 0 : 1).ThenBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)];
        }
        catch (SocketException ex)
        {
            Log.ResolveFailed(_logger, peer.Host, ex.Message);
            return [];
        }
    }

    // Returns the peer's node id once the session it ran has ended.
    private async Task<NodeId> DialAsync(DnsEndPoint peer, IPAddress address, CancellationToken cancellationToken)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Interlocked.Increment(ref _connections);
        StreamPipeConnection? connection = null;
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(_options.HandshakeTimeout);
                await socket.ConnectAsync(new IPEndPoint(address, peer.Port), connectTimeout.Token).ConfigureAwait(false);
            }

            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            (Stream stream, PeerChannelSecurity? security) = await SecureAsync(socket, PeerRole.Client, cancellationToken).ConfigureAwait(false);
            connection = new StreamPipeConnection(stream, socket, MaxBufferedBytes);
            PeerSession session = _host!.CreateSession(connection, PeerRole.Client, security, $"tcp {peer.Host}:{peer.Port} ({address})", ConfigureSession);
            NodeId remote = await _host.AttachAsync(session, cancellationToken).ConfigureAwait(false);
            await RunSessionAsync(session, remote, PeerRole.Client).ConfigureAwait(false);
            return remote;
        }
        finally
        {
            await CloseAsync(connection, socket).ConfigureAwait(false);
            Interlocked.Decrement(ref _connections);
        }
    }

    // Keeps one connection per remote node (the one the lower node id opened) and waits for it to end.
    private async Task RunSessionAsync(PeerSession session, NodeId remote, PeerRole role)
    {
        var attached = new Attached(session, IsKeeper(remote, role));
        Attached? loser = null;
        lock (_lock)
        {
            if (!_sessions.TryGetValue(remote, out List<Attached>? list))
            {
                _sessions[remote] = list = [];
            }

            foreach (Attached other in list)
            {
                if (other.Session.DisconnectReason == PeerDisconnectReason.None)
                {
                    loser = attached.IsKeeper && !other.IsKeeper ? other : attached;
                    break;
                }
            }

            list.Add(attached);
        }

        if (loser is not null)
        {
            Log.DuplicateClosed(_logger, loser.Session.ConnectionName, remote);
            await loser.Session.CloseAsync().ConfigureAwait(false);
        }

        try
        {
            await session.Completion.ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (_sessions.TryGetValue(remote, out List<Attached>? list) && list.Remove(attached) && list.Count == 0)
                {
                    _sessions.Remove(remote);
                }
            }
        }
    }

    // The kept connection between two nodes is the one whose client has the lower node id.
    private bool IsKeeper(NodeId remote, PeerRole role)
    {
        NodeId local = _host!.LocalId;
        NodeId client = role == PeerRole.Client ? local : remote;
        NodeId lower = local.CompareTo(remote) <= 0 ? local : remote;
        return client == lower;
    }

    private async Task<(Stream Stream, PeerChannelSecurity? Security)> SecureAsync(Socket socket, PeerRole role, CancellationToken cancellationToken)
    {
        var network = new NetworkStream(socket, ownsSocket: false);
        if (_tls is null)
        {
            return (network, null);
        }

        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HandshakeTimeout);
        try
        {
            if (role == PeerRole.Server)
            {
                await ssl.AuthenticateAsServerAsync(
                    new SslServerAuthenticationOptions
                    {
                        ServerCertificate = _tls.ServerCertificate,
                        ClientCertificateRequired = true,
                        EnabledSslProtocols = _options.Tls!.Protocols,
                        RemoteCertificateValidationCallback = _tls.ValidatePeer,
                    },
                    timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = "ataraxia",
                        ClientCertificates = [_tls.ClientCertificate],
                        LocalCertificateSelectionCallback = (_, _, _, _, _) => _tls.ClientCertificate,
                        EnabledSslProtocols = _options.Tls!.Protocols,
                        RemoteCertificateValidationCallback = _tls.ValidatePeer,
                    },
                    timeout.Token).ConfigureAwait(false);
            }
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (ssl.RemoteCertificate is null)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new AuthenticationException("The peer presented no certificate.");
        }

        byte[] local = TlsIdentity.PublicKeyOf(role == PeerRole.Server ? _tls.ServerCertificate : _tls.ClientCertificate);
        byte[] remote = TlsIdentity.PublicKeyOf(ssl.RemoteCertificate);
        return (ssl, new PeerChannelSecurity(local, remote));
    }

    private long MaxBufferedBytes => (_options.MaxFrameSize ?? _host!.SessionOptions.MaxFrameSize) + (64 * 1024);

    private PeerSessionOptions ConfigureSession(PeerSessionOptions options) => options with
    {
        AuthProviders = _options.Authentication ?? options.AuthProviders,
        MaxFrameSize = _options.MaxFrameSize ?? options.MaxFrameSize,
        NegotiationTimeout = _options.NegotiationTimeout ?? options.NegotiationTimeout,
    };

    private static async Task CloseAsync(StreamPipeConnection? connection, Socket socket)
    {
        if (connection is not null)
        {
            await connection.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        else
        {
            socket.Close(0);
        }
    }

    private sealed record Attached(PeerSession Session, bool IsKeeper);
}
