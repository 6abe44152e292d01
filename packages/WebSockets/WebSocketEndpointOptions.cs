using Ataraxia.WebSockets.Internal;
using Ataraxia.Authentication;
using Microsoft.AspNetCore.Http;

namespace Ataraxia.WebSockets;

/// <summary>
/// Settings of a URL that accepts Ataraxia WebSocket connections: who may upgrade, limits and session overrides.
/// Used by <see cref="AtaraxiaEndpointRouteBuilderExtensions.MapAtaraxiaWebSockets"/>,
/// <see cref="WebSocketServerEndpoint.HandleRequestAsync"/> and <see cref="WebSocketServerTransport"/>.
/// </summary>
public sealed record WebSocketEndpointOptions
{
    /// <summary>Gets the origins (<c>https://example.com</c>) whose browser pages may connect; others get 403 before the upgrade.</summary>
    /// <remarks>
    /// Defaults to empty: any origin. Browsers always send <c>Origin</c> on WebSocket requests, so this stops
    /// other sites' pages from connecting through your users' browsers (cross-site WebSocket hijacking), which
    /// matters when <see cref="Authorize"/> relies on cookies. Requests without <c>Origin</c> (non-browser
    /// clients) are not affected. Compared case-insensitively, scheme and port included; <c>*</c> allows any.
    /// </remarks>
    public IReadOnlyCollection<string> AllowedOrigins { get; init; } = [];

    /// <summary>Gets a hook that decides, before the upgrade, whether a request may connect.</summary>
    /// <remarks>
    /// <para>
    /// Defaults to none (everyone may upgrade; Ataraxia authentication still runs inside the connection). Return
    /// <see langword="false"/> to refuse: the response carries the status the hook set (for example 401 with a
    /// <c>WWW-Authenticate</c> header), or 403 if it left it unchanged, and no WebSocket is accepted. It runs
    /// after the origin check, on every upgrade request, with the request's services and user.
    /// </para>
    /// <para>ASP.NET Core authorization (<c>RequireAuthorization()</c> on the mapped endpoint) works as well.</para>
    /// </remarks>
    public Func<HttpContext, ValueTask<bool>>? Authorize { get; init; }

    /// <summary>Gets the authentication providers for connections accepted here, or <see langword="null"/> to use the network's.</summary>
    /// <remarks>Defaults to <see langword="null"/>.</remarks>
    public IReadOnlyList<IAuthProvider>? Authentication { get; init; }

    /// <summary>Gets the largest WebSocket message (one peer message) sent or received, or <see langword="null"/> for the network's frame limit.</summary>
    /// <remarks>
    /// Defaults to <see langword="null"/> (the network's 16 MiB unless changed). A larger message closes that
    /// connection with status 1009 (MessageTooBig); at most this much is buffered while receiving one.
    /// </remarks>
    public long? MaxMessageSize { get; init; }

    /// <summary>Gets the time each negotiation step may take on connections accepted here, or <see langword="null"/> for the network's setting.</summary>
    /// <remarks>Defaults to <see langword="null"/> (the network's 5 s unless changed).</remarks>
    public TimeSpan? NegotiationTimeout { get; init; }

    /// <summary>Gets the interval of WebSocket keep-alive frames, which keep proxies and NATs from dropping an idle connection.</summary>
    /// <remarks>Defaults to 30 seconds. <see cref="TimeSpan.Zero"/> turns them off. Ataraxia's own PINGs decide liveness regardless.</remarks>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets how long to wait for the answer to a keep-alive PING before the connection is dropped.</summary>
    /// <remarks>Defaults to <see cref="Timeout.InfiniteTimeSpan"/>: keep-alives are one-way PONG frames and never time out.</remarks>
    public TimeSpan KeepAliveTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>Gets the most WebSocket connections the server endpoint keeps at once.</summary>
    /// <remarks>Defaults to 1024, counted across every URL of the endpoint. Beyond it, upgrade requests get 503.</remarks>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Gets the most connections that may be negotiating (not yet authenticated) at once.</summary>
    /// <remarks>Defaults to 64. Beyond it, upgrade requests get 503, so a flood of idle sockets cannot starve real peers.</remarks>
    public int MaxPendingConnections { get; init; } = 64;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(AllowedOrigins, nameof(AllowedOrigins));
        WebSocketSessions.ValidateOverrides(Authentication, MaxMessageSize, NegotiationTimeout, KeepAliveInterval, KeepAliveTimeout);

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingConnections, 1, nameof(MaxPendingConnections));
    }

    internal bool IsOriginAllowed(string? origin)
    {
        if (AllowedOrigins.Count == 0 || string.IsNullOrEmpty(origin))
        {
            return true;
        }

        ReadOnlySpan<char> requested = origin.AsSpan().TrimEnd('/');
        foreach (string allowed in AllowedOrigins)
        {
            if (allowed == "*" || requested.Equals(allowed.AsSpan().TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
