using System.Net.WebSockets;
using Ataraxia.Protocol;
using Ataraxia.Transport;
using Ataraxia.WebSockets.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia.WebSockets;

/// <summary>
/// Connects a network to Ataraxia WebSocket servers (<c>ws://</c> or <c>wss://</c>) as a client, keeps one
/// connection to each and reconnects with exponential back-off and full jitter.
/// </summary>
/// <remarks>
/// <para>
/// Each peer message travels as one binary WebSocket message, without a length prefix; text messages are
/// ignored and connections close without BYE (WIRE.md §4.4), so JavaScript WebSocket peers interoperate.
/// </para>
/// <para>
/// WebSockets carry no channel binding: shared-secret proofs are not tied to the TLS session, so a TLS-terminating
/// proxy is transparent. Use <c>wss://</c> beyond trusted networks, and authenticate with
/// <see cref="Ataraxia.Authentication.SharedSecretAuth"/> or your own provider (plus, if the server asks for it,
/// a token in <see cref="WebSocketClientTransportOptions.RequestHeaders"/>). All members are thread-safe.
/// </para>
/// </remarks>
public sealed class WebSocketClientTransport : ITransport, IAsyncDisposable
{
    // A session that stayed active this long resets the back-off; one that ends sooner counts as a failure.
    private static readonly TimeSpan LastingSession = TimeSpan.FromSeconds(1);

    private readonly WebSocketClientTransportOptions _options;
    private readonly Lock _lock = new();
    private readonly Dictionary<Uri, CancellationTokenSource> _servers = [];
    private readonly List<Task> _dialLoops = [];
    private CancellationTokenSource? _stopping;
    private ITransportHost? _host;
    private ILogger _logger = NullLogger.Instance;
    private int _connections;

    /// <summary>Creates a WebSocket client transport.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults (no servers yet).</param>
    public WebSocketClientTransport(WebSocketClientTransportOptions? options = null)
    {
        _options = options ?? new WebSocketClientTransportOptions();
        _options.Validate();
        foreach (Uri server in _options.Servers)
        {
            _servers.TryAdd(server, new CancellationTokenSource());
        }
    }

    /// <inheritdoc />
    public string Name => "ws";

    /// <summary>Gets the number of open WebSocket connections, authenticated or not.</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>Connects to a server, and keeps reconnecting while it is listed.</summary>
    /// <param name="url">A <c>ws://</c> or <c>wss://</c> URL.</param>
    /// <exception cref="ArgumentException">The URL is not a WebSocket URL.</exception>
    public void AddServer(Uri url)
    {
        CheckUrl(url, nameof(url));
        lock (_lock)
        {
            if (_servers.ContainsKey(url))
            {
                return;
            }

            var cancellation = new CancellationTokenSource();
            _servers[url] = cancellation;
            if (_stopping is not null && !_stopping.IsCancellationRequested)
            {
                StartDialing(url, cancellation);
            }
        }
    }

    /// <summary>Stops connecting to a server; an existing connection to it stays until it ends.</summary>
    /// <param name="url">The URL given to <see cref="AddServer"/> or in the options.</param>
    /// <returns><see langword="true"/> if the server was listed.</returns>
#pragma warning disable VSTHRD103 // Cancelling only signals the dial loop; nothing blocks on it.
    public bool RemoveServer(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        CancellationTokenSource? cancellation;
        lock (_lock)
        {
            if (!_servers.Remove(url, out cancellation))
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
    public ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_lock)
        {
            if (_host is not null)
            {
                throw new InvalidOperationException("A WebSocket client transport serves one network and starts once.");
            }

            _host = host;
            _logger = host.LoggerFactory.CreateLogger<WebSocketClientTransport>();
            _stopping = new CancellationTokenSource();
            foreach ((Uri server, CancellationTokenSource cancellation) in _servers)
            {
                StartDialing(server, cancellation);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        CancellationTokenSource? stopping;
        CancellationTokenSource[] servers;
        lock (_lock)
        {
            stopping = _stopping;
            if (stopping is null || stopping.IsCancellationRequested)
            {
                return;
            }

            servers = [.. _servers.Values];
        }

        foreach (CancellationTokenSource server in servers)
        {
            await server.CancelAsync().ConfigureAwait(false);
        }

        // Connection attempts and negotiations end at once. Established sessions end when the network closes
        // them after stopping its transports: waiting for them here would wait for ourselves.
        await stopping.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the transport and waits (up to 10 seconds) for its connections to end.</summary>
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
    }

    internal static void CheckUrl(Uri url, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(url, parameterName);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeWs && url.Scheme != Uri.UriSchemeWss))
        {
            throw new ArgumentException($"'{url}' is not a ws:// or wss:// URL.", parameterName);
        }
    }

    private void StartDialing(Uri url, CancellationTokenSource cancellation)
    {
        if (url.Scheme == Uri.UriSchemeWs && !url.IsLoopback)
        {
            Log.Plaintext(_logger, url);
        }

        CancellationToken token = CancellationTokenSource.CreateLinkedTokenSource(cancellation.Token, _stopping!.Token).Token;
        _dialLoops.Add(Task.Run(() => DialLoopAsync(url, token), CancellationToken.None));
    }

    private async Task DialLoopAsync(Uri url, CancellationToken cancellationToken)
    {
        var state = new DialState();
        var backoff = new ReconnectBackoff(_options.ReconnectInitialDelay, _options.ReconnectMaxDelay);
        TimeProvider time = _host!.SessionOptions.TimeProvider;
        while (!cancellationToken.IsCancellationRequested)
        {
            bool lasted = false;
            try
            {
                lasted = await ConnectAndRunAsync(url, state, cancellationToken).ConfigureAwait(false);
            }
            catch (PeerSessionClosedException ex) when (ex.Reason == PeerDisconnectReason.AuthenticationFailed)
            {
                if (!state.AuthenticationFailureLogged)
                {
                    Log.AuthenticationRejected(_logger, url, ex);
                    state.AuthenticationFailureLogged = true;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.ConnectFailed(_logger, url, ex.Message);
            }

            if (lasted)
            {
                // A lasting session ended: reconnect at once, with a fresh back-off.
                backoff.Reset();
                state.AuthenticationFailureLogged = false;
                continue;
            }

            TimeSpan delay = backoff.NextDelay();
            Log.Backoff(_logger, url, delay);
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

    // Connects, runs one session and returns whether it lasted; throws when connecting or negotiating failed.
    private async Task<bool> ConnectAndRunAsync(Uri url, DialState state, CancellationToken cancellationToken)
    {
        ITransportHost host = _host!;
        var socket = new ClientWebSocket();
        WebSocketConnection? connection = null;
        PeerSession? session = null;
        Interlocked.Increment(ref _connections);
        try
        {
            ConfigureSocket(socket.Options, url);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_options.ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(url, timeout.Token).ConfigureAwait(false);
                }
                catch (WebSocketException) when ((int)socket.HttpStatusCode >= 400)
                {
                    // The server answered the upgrade request with an HTTP error (authorization, origin, limits).
                    int status = (int)socket.HttpStatusCode;
                    if (state.RefusedStatus != status)
                    {
                        Log.UpgradeRefused(_logger, url, status);
                        state.RefusedStatus = status;
                    }
                    else
                    {
                        Log.UpgradeRefusedAgain(_logger, url, status);
                    }

                    return false;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"The WebSocket handshake did not finish within {_options.ConnectTimeout}.");
                }
            }

            state.RefusedStatus = 0;
            Log.Connected(_logger, url);
            string name = $"ws {url}";
            connection = new WebSocketConnection(socket, _options.MaxMessageSize ?? host.SessionOptions.MaxFrameSize, name, _logger);
            connection.Start();
            session = host.CreateSession(connection, PeerRole.Client, security: null, name, ConfigureSession);
            await host.AttachAsync(session, cancellationToken).ConfigureAwait(false);
            TimeProvider time = host.SessionOptions.TimeProvider;
            long active = time.GetTimestamp();
            await session.Completion.ConfigureAwait(false);
            return time.GetElapsedTime(active) >= LastingSession;
        }
        finally
        {
            if (session is not null)
            {
                // A session that failed to attach may still be writing; the pipes are its until it completes.
                await session.Completion.ConfigureAwait(false);
            }

            if (connection is not null)
            {
                await connection.CloseAsync(host.SessionOptions.CloseTimeout).ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            Interlocked.Decrement(ref _connections);
        }
    }

    private void ConfigureSocket(ClientWebSocketOptions options, Uri url)
    {
        options.KeepAliveInterval = _options.KeepAliveInterval;
        options.KeepAliveTimeout = _options.KeepAliveTimeout;
        options.CollectHttpResponseDetails = true;
        foreach ((string name, string value) in _options.RequestHeaders)
        {
            options.SetRequestHeader(name, value);
        }

        foreach (System.Security.Cryptography.X509Certificates.X509Certificate certificate in _options.ClientCertificates)
        {
            options.ClientCertificates.Add(certificate);
        }

        if (_options.RemoteCertificateValidation is { } validate)
        {
            options.RemoteCertificateValidationCallback = validate;
        }

        _options.ConfigureWebSocket?.Invoke(options, url);
    }

    private PeerSessionOptions ConfigureSession(PeerSessionOptions options) =>
        WebSocketSessions.Configure(options, _options.Authentication, _options.MaxMessageSize, _options.NegotiationTimeout);

    private sealed class DialState
    {
        public bool AuthenticationFailureLogged { get; set; }

        public int RefusedStatus { get; set; }
    }
}
