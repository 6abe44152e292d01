using System.Net;
using Ataraxia.Authentication;
using Ataraxia.Cbor;
using Ataraxia.Tcp;
using Ataraxia.Testing;
using Ataraxia.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ataraxia.WebSockets.Tests;

/// <summary>A network with some transports on loopback and a recording logger, for integration tests.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    public const string Secret = "s3cret";

    private readonly IAsyncDisposable[] _owned;

    private TestNode(Network network, TestLoggerFactory logs, IAsyncDisposable[] owned)
    {
        Network = network;
        Logs = logs;
        _owned = owned;
    }

    public Network Network { get; }

    public TestLoggerFactory Logs { get; }

    public NodeId Id => Network.Id;

    /// <summary>Quick reconnection for tests: 50 ms doubling up to 500 ms.</summary>
    public static WebSocketClientTransportOptions ClientOptions(Uri server) => new()
    {
        Servers = [server],
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
    };

    public static Task<TestNode> StartAsync(string? secret, params ITransport[] transports) =>
        StartAsync(new TestLoggerFactory(), secret, transports);

    public static async Task<TestNode> StartAsync(TestLoggerFactory logs, string? secret, params ITransport[] transports)
    {
        var network = new Network(new NetworkOptions
        {
            Name = "ws-tests",
            Transports = transports,
            Authentication = AuthFor(secret),
            LoggerFactory = logs,
        });
        await network.JoinAsync().DefaultTimeout();
        return new TestNode(network, logs, [.. transports.OfType<IAsyncDisposable>()]);
    }

    /// <summary>A node with a standalone WebSocket server on 127.0.0.1.</summary>
    public static async Task<(TestNode Node, WebSocketServerTransport Server)> StartServerAsync(
        string? secret = Secret,
        int port = 0,
        Func<WebSocketEndpointOptions, WebSocketEndpointOptions>? endpoint = null,
        params ITransport[] more)
    {
        var server = new WebSocketServerTransport(new WebSocketServerTransportOptions
        {
            Address = IPAddress.Loopback,
            Port = port,
            Path = "/mesh",
            Endpoint = endpoint is null ? new WebSocketEndpointOptions() : endpoint(new WebSocketEndpointOptions()),
        });
        TestNode node = await StartAsync(secret, [server, .. more]);
        return (node, server);
    }

    /// <summary>A node with a WebSocket client to one server.</summary>
    public static async Task<(TestNode Node, WebSocketClientTransport Client)> StartClientAsync(
        Uri server,
        string? secret = Secret,
        Func<WebSocketClientTransportOptions, WebSocketClientTransportOptions>? configure = null)
    {
        WebSocketClientTransportOptions options = ClientOptions(server);
        var client = new WebSocketClientTransport(configure is null ? options : configure(options));
        TestNode node = await StartAsync(secret, client);
        return (node, client);
    }

    /// <summary>A node with a TCP transport (TLS, loopback) dialling the given peers.</summary>
    public static async Task<(TestNode Node, TcpTransport Tcp)> StartTcpAsync(string? secret = Secret, params DnsEndPoint[] peers)
    {
        var tcp = new TcpTransport(TcpOptions(peers));
        TestNode node = await StartAsync(secret, tcp);
        return (node, tcp);
    }

    public static TcpTransportOptions TcpOptions(params DnsEndPoint[] peers) => new()
    {
        BindAddresses = [IPAddress.Loopback],
        Peers = peers,
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
    };

    public static IReadOnlyList<IAuthProvider> AuthFor(string? secret) =>
        secret is null ? [AnonymousAuth.Instance] : [new SharedSecretAuth(secret)];

    public bool Sees(NodeId other) => Network.TryGetNode(other, out _);

    public bool Sees(TestNode other) => Sees(other.Id);

    public async ValueTask DisposeAsync()
    {
        await Network.DisposeAsync();
        foreach (IAsyncDisposable owned in _owned)
        {
            await owned.DisposeAsync();
        }

        // Whatever a test provokes, nothing may go wrong badly enough to be logged as an error.
        Assert.Empty(Logs.Errors);
    }

    public static async Task AssertDeliveredAsync(Network from, Network to)
    {
        string type = $"probe-{Guid.NewGuid():N}";
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(object? sender, MessageEventArgs e)
        {
            if (e.Message.Type == type)
            {
                received.TrySetResult(e.Message);
            }
        }

        to.MessageReceived += Handler;
        try
        {
            await from.SendAsync(to.Id, type, new CborMap { ["payload"] = new byte[] { 1, 2, 3 } }).DefaultTimeout();
            Message message = await received.Task.DefaultTimeout();
            Assert.Equal(from.Id, message.Source.Id);
            Assert.Equal(new byte[] { 1, 2, 3 }, message.Data.AsMap()["payload"].AsBytes().ToArray());
        }
        finally
        {
            to.MessageReceived -= Handler;
        }
    }
}

/// <summary>An ASP.NET Core application on 127.0.0.1 with <c>AddAtaraxia</c> and <c>MapAtaraxiaWebSockets("/mesh")</c>.</summary>
internal sealed class AspNetTestServer : IAsyncDisposable
{
    private int _disposed;

    private AspNetTestServer(WebApplication app, TestLoggerFactory logs, int port)
    {
        App = app;
        Logs = logs;
        Port = port;
    }

    public WebApplication App { get; }

    public TestLoggerFactory Logs { get; }

    public int Port { get; }

    public Network Network => App.Services.GetRequiredService<Network>();

    public WebSocketServerEndpoint Endpoint => App.Services.GetRequiredService<WebSocketServerEndpoint>();

    public NodeId Id => Network.Id;

    public bool IsHttps { get; private init; }

    public Uri MeshUrl => new($"{(IsHttps ? "wss" : "ws")}://127.0.0.1:{Port}/mesh");

    public Uri HttpUrl(string path) => new($"{(IsHttps ? "https" : "http")}://127.0.0.1:{Port}{path}");

    /// <summary>Starts the application; <paramref name="https"/> turns on TLS for the listener (then the mesh URL is wss://).</summary>
    public static async Task<AspNetTestServer> StartAsync(
        string? secret = TestNode.Secret,
        Func<WebSocketEndpointOptions, WebSocketEndpointOptions>? endpoint = null,
        Func<NetworkOptions, NetworkOptions>? network = null,
        Action<WebApplication>? map = null,
        Action<ListenOptions>? https = null)
    {
        var logs = new TestLoggerFactory();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(logs);
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, listen => https?.Invoke(listen)));
        builder.Services.AddAtaraxia("ws-tests", o =>
        {
            NetworkOptions options = o with { Authentication = TestNode.AuthFor(secret) };
            return network is null ? options : network(options);
        });
        WebApplication app = builder.Build();
        app.MapAtaraxiaWebSockets("/mesh", endpoint);
        map?.Invoke(app);
        await app.StartAsync().DefaultTimeout();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new AspNetTestServer(app, logs, BindingAddress.Parse(address).Port) { IsHttps = https is not null };
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await App.StopAsync().DefaultTimeout();
        await App.DisposeAsync();
        Assert.Empty(Logs.Errors);
    }
}
