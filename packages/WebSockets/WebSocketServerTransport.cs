using System.Net;
using System.Net.Sockets;
using Ataraxia.Transport;
using Ataraxia.WebSockets.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ataraxia.WebSockets;

/// <summary>
/// A WebSocket server for applications that are not web applications: hosts its own Kestrel on an address and
/// port and accepts Ataraxia WebSocket connections on one path (<c>ws://host:port/path</c>, or <c>wss://</c> with
/// a certificate).
/// </summary>
/// <remarks>
/// <para>
/// In an ASP.NET Core application use <see cref="AtaraxiaServiceCollectionExtensions"/> and
/// <see cref="AtaraxiaEndpointRouteBuilderExtensions.MapAtaraxiaWebSockets"/> instead, which share the
/// application's server, TLS and authorization. The embedded server logs through the network's logger factory
/// and does not react to Ctrl+C; the network's lifetime is its lifetime.
/// </para>
/// <para>All members are thread-safe.</para>
/// </remarks>
public sealed class WebSocketServerTransport : ITransport, IAsyncDisposable
{
    private readonly WebSocketServerTransportOptions _options;
    private readonly WebSocketServerEndpoint _endpoint = new();
    private readonly Lock _lock = new();
    private WebApplication? _app;
    private bool _started;
    private int _port;
    private Uri? _url;

    /// <summary>Creates a standalone WebSocket server transport.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults (plain <c>ws://</c> on every interface, a port the system picks, path <c>/</c>).</param>
    public WebSocketServerTransport(WebSocketServerTransportOptions? options = null)
    {
        _options = options ?? new WebSocketServerTransportOptions();
        _options.Validate();
    }

    /// <inheritdoc />
    public string Name => "ws-server";

    /// <summary>Gets the port the server listens on once started (0 before).</summary>
    public int Port => Volatile.Read(ref _port);

    /// <summary>Gets the URL clients connect to once started (host <c>localhost</c> when listening on every interface), or <see langword="null"/> before.</summary>
    public Uri? Url
    {
        get
        {
            lock (_lock)
            {
                return _url;
            }
        }
    }

    /// <summary>Gets the number of accepted WebSocket connections, authenticated or not.</summary>
    public int ConnectionCount => _endpoint.ConnectionCount;

    /// <inheritdoc />
    public async ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_lock)
        {
            if (_started)
            {
                throw new InvalidOperationException("A WebSocket server transport serves one network and starts once.");
            }

            _started = true;
        }

        await _endpoint.StartAsync(host, cancellationToken).ConfigureAwait(false);
        WebApplication app = Build(host.LoggerFactory);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            await _endpoint.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel reported no address.");
        int port = BindingAddress.Parse(bound).Port;
        var url = new UriBuilder(_options.Certificate is null ? Uri.UriSchemeWs : Uri.UriSchemeWss, HostFor(_options.Address), port, _options.Path).Uri;
        lock (_lock)
        {
            _app = app;
            _url = url;
            Volatile.Write(ref _port, port);
        }

        ILogger logger = host.LoggerFactory.CreateLogger<WebSocketServerTransport>();
        Log.Listening(logger, url);
    }

    /// <summary>Closes every WebSocket connection, then stops the embedded web server.</summary>
    /// <param name="cancellationToken">Stops waiting for a graceful close.</param>
    /// <returns>A task that completes once stopped.</returns>
    public async ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        WebApplication? app;
        lock (_lock)
        {
            app = _app;
            _app = null;
        }

        await _endpoint.StopAsync(cancellationToken).ConfigureAwait(false);
        if (app is not null)
        {
            try
            {
                await app.StopAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops the transport.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public ValueTask DisposeAsync() => StopAsync();

    private static string HostFor(IPAddress? address) => address switch
    {
        null => "localhost",
        _ when address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) => "localhost",
        { AddressFamily: AddressFamily.InterNetworkV6 } => $"[{address}]",
        _ => address.ToString(),
    };

    private WebApplication Build(ILoggerFactory loggerFactory)
    {
        // The empty builder reads no configuration or environment variables: only these settings apply.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(WebSocketServerTransport).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Services.AddSingleton(loggerFactory); // before AddLogging, which only adds a factory if none is there
        builder.Services.AddLogging();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = _options.ShutdownTimeout);
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            void Configure(ListenOptions listen)
            {
                if (_options.Certificate is { } certificate)
                {
                    listen.UseHttps(certificate);
                }
            }

            if (_options.Address is null)
            {
                kestrel.ListenAnyIP(_options.Port, Configure);
            }
            else
            {
                kestrel.Listen(_options.Address, _options.Port, Configure);
            }
        });

        WebApplication app = builder.Build();
        app.UseWebSockets();
        var path = new PathString(_options.Path);
        WebSocketEndpointOptions endpointOptions = _options.Endpoint;
        app.Run(context =>
        {
            if (!context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return _endpoint.HandleRequestAsync(context, endpointOptions);
        });
        return app;
    }
}
