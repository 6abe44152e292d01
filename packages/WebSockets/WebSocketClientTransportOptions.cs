using Ataraxia.WebSockets.Internal;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Ataraxia.Authentication;

namespace Ataraxia.WebSockets;

/// <summary>Settings of a <see cref="WebSocketClientTransport"/>.</summary>
public sealed record WebSocketClientTransportOptions
{
    /// <summary>Gets the <c>ws://</c> or <c>wss://</c> URLs of the servers to connect to from the start; more can be added with <see cref="WebSocketClientTransport.AddServer"/>.</summary>
    /// <remarks>Defaults to none. The transport keeps one connection to each and reconnects when it ends.</remarks>
    public IReadOnlyList<Uri> Servers { get; init; } = [];

    /// <summary>Gets headers sent with every upgrade request, for example <c>Authorization: Bearer …</c>.</summary>
    /// <remarks>
    /// Defaults to none. They reach the server's authorization hook before the upgrade; Ataraxia authentication
    /// (<see cref="Authentication"/>) runs afterwards, inside the connection. Send credentials only over <c>wss://</c>.
    /// </remarks>
    public IReadOnlyDictionary<string, string> RequestHeaders { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets the client certificates offered to <c>wss://</c> servers that ask for one.</summary>
    /// <remarks>Defaults to none.</remarks>
    public IReadOnlyList<X509Certificate> ClientCertificates { get; init; } = [];

    /// <summary>Gets a callback that decides whether a <c>wss://</c> server's certificate is acceptable.</summary>
    /// <remarks>Defaults to none: the system's validation decides (chain and host name).</remarks>
    public RemoteCertificateValidationCallback? RemoteCertificateValidation { get; init; }

    /// <summary>Gets a hook that adjusts the socket options before each connection attempt (a fresh token, a proxy, cookies).</summary>
    /// <remarks>
    /// Defaults to none. It runs after <see cref="RequestHeaders"/>, <see cref="ClientCertificates"/> and the
    /// keep-alive settings are applied, so it can override them; it receives the URL being dialled.
    /// </remarks>
    public Action<ClientWebSocketOptions, Uri>? ConfigureWebSocket { get; init; }

    /// <summary>Gets the authentication providers for this transport's connections, or <see langword="null"/> to use the network's.</summary>
    /// <remarks>Defaults to <see langword="null"/>.</remarks>
    public IReadOnlyList<IAuthProvider>? Authentication { get; init; }

    /// <summary>Gets the largest WebSocket message (one peer message) sent or received, or <see langword="null"/> for the network's frame limit.</summary>
    /// <remarks>
    /// Defaults to <see langword="null"/> (the network's 16 MiB unless changed). A larger message from the server
    /// closes the connection with status 1009 (MessageTooBig).
    /// </remarks>
    public long? MaxMessageSize { get; init; }

    /// <summary>Gets the time each negotiation step may take on this transport's connections, or <see langword="null"/> for the network's setting.</summary>
    /// <remarks>Defaults to <see langword="null"/> (the network's 5 s unless changed).</remarks>
    public TimeSpan? NegotiationTimeout { get; init; }

    /// <summary>Gets the interval of WebSocket keep-alive frames, which keep proxies and NATs from dropping an idle connection.</summary>
    /// <remarks>Defaults to 30 seconds. <see cref="TimeSpan.Zero"/> turns them off. Ataraxia's own PINGs decide liveness regardless.</remarks>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets how long to wait for the answer to a keep-alive PING before the connection is dropped.</summary>
    /// <remarks>Defaults to <see cref="Timeout.InfiniteTimeSpan"/>: keep-alives are one-way PONG frames and never time out.</remarks>
    public TimeSpan KeepAliveTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>Gets the time the TCP, TLS and HTTP upgrade handshake may take.</summary>
    /// <remarks>Defaults to 10 seconds.</remarks>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets the first reconnection delay.</summary>
    /// <remarks>
    /// Defaults to 100 ms. Each failed attempt doubles it, up to <see cref="ReconnectMaxDelay"/>; the actual wait is
    /// random between zero and that value (full jitter). A session that lasted resets it.
    /// </remarks>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets the longest reconnection delay.</summary>
    /// <remarks>Defaults to 30 seconds.</remarks>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Servers, nameof(Servers));
        ArgumentNullException.ThrowIfNull(RequestHeaders, nameof(RequestHeaders));
        ArgumentNullException.ThrowIfNull(ClientCertificates, nameof(ClientCertificates));
        foreach (Uri server in Servers)
        {
            WebSocketClientTransport.CheckUrl(server, nameof(Servers));
        }

        WebSocketSessions.ValidateOverrides(Authentication, MaxMessageSize, NegotiationTimeout, KeepAliveInterval, KeepAliveTimeout);

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ReconnectInitialDelay, TimeSpan.Zero, nameof(ReconnectInitialDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectMaxDelay, ReconnectInitialDelay, nameof(ReconnectMaxDelay));
    }
}
