using System.Net.WebSockets;
using Ataraxia.Protocol;
using Ataraxia.Transport;
using Ataraxia.WebSockets.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia.WebSockets;

/// <summary>
/// The server side of WebSockets inside an ASP.NET Core application: a transport of the network that accepts
/// the WebSocket requests an application hands it (<see cref="HandleRequestAsync"/>, usually through
/// <see cref="AtaraxiaEndpointRouteBuilderExtensions.MapAtaraxiaWebSockets"/>) and runs a server-role peer
/// session on each.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="AtaraxiaServiceCollectionExtensions.AddAtaraxia(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Func{NetworkOptions, NetworkOptions}?)"/>
/// registers one as a singleton and adds it to the network's transports. Requests that arrive while the network
/// is not joined get 503. Each peer message is one binary WebSocket message (WIRE.md §4.4); the server starts
/// negotiation as soon as the WebSocket is accepted.
/// </para>
/// <para>Stopping closes every WebSocket it accepted (close status 1000), so the web server can shut down. All members are thread-safe.</para>
/// </remarks>
public sealed class WebSocketServerEndpoint : ITransport, IAsyncDisposable
{
    private static readonly WebSocketEndpointOptions DefaultOptions = new();

    private readonly Lock _lock = new();
    private readonly HashSet<Accepted> _accepted = [];
    private CancellationTokenSource? _stopping;
    private bool _stopped;
    private ITransportHost? _host;
    private ILogger _logger = NullLogger.Instance;
    private int _connections;
    private int _pending;

    /// <inheritdoc />
    public string Name => "ws-server";

    /// <summary>Gets the number of accepted WebSocket connections, authenticated or not.</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>Gets a value indicating whether the endpoint accepts connections (its network is joined).</summary>
    public bool IsRunning
    {
        get
        {
            lock (_lock)
            {
                return _host is not null && !_stopped;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_lock)
        {
            if (_host is not null)
            {
                throw new InvalidOperationException("A WebSocket server endpoint serves one network and starts once.");
            }

            _host = host;
            _logger = host.LoggerFactory.CreateLogger<WebSocketServerEndpoint>();
            _stopping = new CancellationTokenSource();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Stops accepting, closes every accepted WebSocket and waits until their handlers returned.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes once stopped.</returns>
    public async ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        CancellationTokenSource? stopping;
        Accepted[] accepted;
        lock (_lock)
        {
            stopping = _stopping;
            if (stopping is null || _stopped)
            {
                return;
            }

            // Set under the lock: a request that found the endpoint running is registered before this snapshot.
            _stopped = true;
            accepted = [.. _accepted];
        }

        await stopping.CancelAsync().ConfigureAwait(false);

        // Negotiating sessions end with the token; active ones close (WebSockets send no BYE, only a close frame).
        await Task.WhenAll(accepted.Select(a => a.Session?.CloseAsync(cancellationToken) ?? Task.CompletedTask)).ConfigureAwait(false);
        await Task.WhenAll(accepted.Select(a => a.Done.Task)).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the endpoint.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public ValueTask DisposeAsync() => StopAsync();

    /// <summary>
    /// Handles one HTTP request: refuses what may not connect, accepts the WebSocket upgrade and runs a peer
    /// session on it until it ends.
    /// </summary>
    /// <param name="context">The request. Needs ASP.NET Core's WebSocket support (<c>UseWebSockets()</c>; <see cref="AtaraxiaEndpointRouteBuilderExtensions.MapAtaraxiaWebSockets"/> adds it).</param>
    /// <param name="options">What to accept; <see langword="null"/> for the defaults.</param>
    /// <returns>A task that completes when the response is done (for a WebSocket, when the connection ended).</returns>
    /// <remarks>
    /// Refusals happen before the upgrade: 400 for a request that is not a WebSocket upgrade, 403 for an origin
    /// not in <see cref="WebSocketEndpointOptions.AllowedOrigins"/>, the hook's status (403 by default) when
    /// <see cref="WebSocketEndpointOptions.Authorize"/> declines, 503 when the network is not joined or a
    /// connection limit is reached.
    /// </remarks>
    public async Task HandleRequestAsync(HttpContext context, WebSocketEndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        options ??= DefaultOptions;
        options.Validate();
        ILogger logger = _logger;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            Refuse(context, StatusCodes.Status400BadRequest, "not a WebSocket upgrade request");
            return;
        }

        string? origin = context.Request.Headers.Origin;
        if (!options.IsOriginAllowed(origin))
        {
            Log.OriginRejected(logger, context.Connection.RemoteIpAddress, origin!);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        if (options.Authorize is { } authorize && !await authorize(context).ConfigureAwait(false))
        {
            if (!context.Response.HasStarted && context.Response.StatusCode < 400)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
            }

            Log.AuthorizationRejected(logger, context.Connection.RemoteIpAddress, context.Response.StatusCode);
            return;
        }

        Accepted? accepted = null;
        ITransportHost? host = null;
        CancellationToken stopping = default;
        bool full = false;
        lock (_lock)
        {
            if (_host is not null && _stopping is { } running && !_stopped)
            {
                if (_connections >= options.MaxConnections || _pending >= options.MaxPendingConnections)
                {
                    full = true;
                }
                else
                {
                    host = _host;
                    stopping = running.Token;
                    accepted = new Accepted();
                    _accepted.Add(accepted);
                    _connections++;
                    _pending++;
                }
            }
        }

        if (accepted is null || host is null)
        {
            Refuse(context, StatusCodes.Status503ServiceUnavailable, full ? "too many connections" : "the network is not joined");
            return;
        }

        try
        {
            await RunAsync(context, options, host, accepted, stopping).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _accepted.Remove(accepted);
                _connections--;
            }

            accepted.Done.TrySetResult();
        }
    }

    private async Task RunAsync(HttpContext context, WebSocketEndpointOptions options, ITransportHost host, Accepted accepted, CancellationToken stopping)
    {
        bool pending = true;
        string name = $"ws {context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
        WebSocketConnection? connection = null;
        PeerSession? session = null;
        try
        {
            WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveTimeout,
                DangerousEnableCompression = false,
            }).ConfigureAwait(false);
            connection = new WebSocketConnection(socket, options.MaxMessageSize ?? host.SessionOptions.MaxFrameSize, name, _logger);
            connection.Start();
            session = host.CreateSession(
                connection,
                PeerRole.Server,
                security: null,
                name,
                o => WebSocketSessions.Configure(o, options.Authentication, options.MaxMessageSize, options.NegotiationTimeout));
            accepted.Session = session;
            if (stopping.IsCancellationRequested)
            {
                // Stopped between registration and now: StopAsync may have missed this session.
                session.Abort();
            }

            await host.AttachAsync(session, stopping).ConfigureAwait(false);
            DecrementPending(ref pending);
            await session.Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.HandshakeFailed(_logger, name, ex);
        }
        finally
        {
            DecrementPending(ref pending);
            if (session is not null)
            {
                // A session that failed to attach may still be writing; the pipes are its until it completes.
                await session.Completion.ConfigureAwait(false);
            }

            if (connection is not null)
            {
                await connection.CloseAsync(host.SessionOptions.CloseTimeout).ConfigureAwait(false);
            }
        }
    }

    private void DecrementPending(ref bool pending)
    {
        if (pending)
        {
            pending = false;
            lock (_lock)
            {
                _pending--;
            }
        }
    }

    private void Refuse(HttpContext context, int status, string why)
    {
        Log.Refused(_logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress, status, why);
        context.Response.StatusCode = status;
    }

    private sealed class Accepted
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private PeerSession? _session;

        public PeerSession? Session
        {
            get => Volatile.Read(ref _session);
            set => Volatile.Write(ref _session, value);
        }
    }
}
