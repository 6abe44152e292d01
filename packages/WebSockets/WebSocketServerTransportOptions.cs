using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Ataraxia.WebSockets;

/// <summary>Settings of a <see cref="WebSocketServerTransport"/>, the WebSocket server for applications that are not web applications.</summary>
public sealed record WebSocketServerTransportOptions
{
    /// <summary>Gets the address to listen on, or <see langword="null"/> for every interface.</summary>
    /// <remarks>Defaults to <see langword="null"/>: IPv6 any in dual mode, or IPv4 any where IPv6 is not available.</remarks>
    public IPAddress? Address { get; init; }

    /// <summary>Gets the port to listen on; 0 lets the system pick one (read it from <see cref="WebSocketServerTransport.Port"/>).</summary>
    /// <remarks>Defaults to 0.</remarks>
    public int Port { get; init; }

    /// <summary>Gets the path that accepts WebSocket connections; other paths get 404.</summary>
    /// <remarks>Defaults to <c>/</c>. Compared case-insensitively.</remarks>
    public string Path { get; init; } = "/";

    /// <summary>Gets the server certificate (with private key) for <c>wss://</c>, or <see langword="null"/> for plain <c>ws://</c>.</summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>. Plain <c>ws://</c> carries authentication and every message in the
    /// clear: use it on trusted networks or behind a TLS-terminating proxy.
    /// </remarks>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>Gets what connections are accepted: origins, authorization hook, limits, session overrides.</summary>
    /// <remarks>Defaults to <see cref="WebSocketEndpointOptions"/>'s defaults.</remarks>
    public WebSocketEndpointOptions Endpoint { get; init; } = new();

    /// <summary>Gets how long stopping waits for the web server's other requests to finish.</summary>
    /// <remarks>Defaults to 5 seconds. WebSocket connections are closed first regardless.</remarks>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 0, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535, nameof(Port));
        ArgumentException.ThrowIfNullOrEmpty(Path, nameof(Path));
        if (Path[0] != '/')
        {
            throw new ArgumentException("The path must start with '/'.", nameof(Path));
        }

        ArgumentNullException.ThrowIfNull(Endpoint, nameof(Endpoint));
        Endpoint.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownTimeout, TimeSpan.Zero, nameof(ShutdownTimeout));
    }
}
