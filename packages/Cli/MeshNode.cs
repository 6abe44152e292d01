using System.Net;
using System.Text.Json.Nodes;
using Ataraxia.Authentication;
using Ataraxia.Local;
using Ataraxia.Tcp;
using Ataraxia.Tcp.Discovery;
using Ataraxia.Transport;
using Ataraxia.WebSockets;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Cli;

/// <summary>This process's node: a <see cref="Network"/> with the transports the options asked for, joined.</summary>
internal sealed class MeshNode : IAsyncDisposable
{
    private MeshNode(Network network, MeshSettings settings, TcpTransport? tcp, WebSocketServerTransport? webSocketServer, MachineLocalTransport? local, ILoggerFactory loggerFactory)
    {
        Network = network;
        Settings = settings;
        Tcp = tcp;
        WebSocketServer = webSocketServer;
        LocalTransport = local;
        LoggerFactory = loggerFactory;
    }

    public Network Network { get; }

    public MeshSettings Settings { get; }

    public TcpTransport? Tcp { get; }

    public WebSocketServerTransport? WebSocketServer { get; }

    public MachineLocalTransport? LocalTransport { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Creates the network (not joined yet), so that a command can attach its handlers first.</summary>
    /// <param name="settings">The options.</param>
    /// <param name="endpoint">
    /// Whether the node only reaches the mesh and never routes for others: the short-lived commands that do not listen,
    /// so that no route runs through a process about to exit.
    /// </param>
    public static MeshNode Create(MeshSettings settings, bool endpoint)
    {
        var loggerFactory = new ConsoleLoggerFactory(settings.LogLevel, withStackTraces: settings.LogLevel <= LogLevel.Debug);
        var transports = new List<ITransport>();
        TcpTransport? tcp = null;
        if (settings.TcpPort is not null || settings.Peers.Count > 0)
        {
            tcp = new TcpTransport(new TcpTransportOptions
            {
                Listen = settings.TcpPort is not null,
                Port = settings.TcpPort ?? 0,
                BindAddresses = settings.Bind,
                Peers = settings.Peers,
                Tls = settings.Tls ? new TcpTlsOptions() : null,
                Discovery = settings.Mdns ? new MdnsDiscovery() : null,
            });
            transports.Add(tcp);
        }

        WebSocketServerTransport? webSocketServer = null;
        if (settings.WebSocketListen is { } listen)
        {
            IPAddress? address = listen.Host switch
            {
                "*" or "+" or "0.0.0.0" or "[::]" => null,
                "localhost" => IPAddress.Loopback,
                _ => IPAddress.TryParse(listen.Host, out IPAddress? parsed) ? parsed : throw CommandException.Usage($"--ws-listen needs an IP address, localhost or 0.0.0.0 as its host, not '{listen.Host}'."),
            };
            webSocketServer = new WebSocketServerTransport(new WebSocketServerTransportOptions
            {
                Address = address,
                Port = !listen.IsDefaultPort || listen.OriginalString.Contains($":{listen.Port}", StringComparison.Ordinal) ? listen.Port : 0,
                Path = listen.AbsolutePath,
            });
            transports.Add(webSocketServer);
        }

        if (settings.WebSocketConnect.Count > 0)
        {
            transports.Add(new WebSocketClientTransport(new WebSocketClientTransportOptions
            {
                Servers = [.. settings.WebSocketConnect.Select(u => u.Scheme switch
                {
                    "http" => new UriBuilder(u) { Scheme = "ws", Port = u.Port }.Uri,
                    "https" => new UriBuilder(u) { Scheme = "wss", Port = u.Port }.Uri,
                    _ => u,
                })],
            }));
        }

        MachineLocalTransport? local = null;
        if (settings.Local)
        {
            local = new MachineLocalTransport();
            transports.Add(local);
        }

        var network = new Network(new NetworkOptions
        {
            Name = settings.NetworkName,
            Endpoint = endpoint && !settings.Listens,
            Transports = transports,
            Authentication = settings.Secret is null ? [AnonymousAuth.Instance] : [new SharedSecretAuth(settings.Secret)],
            LoggerFactory = loggerFactory,
        });
        return new MeshNode(network, settings, tcp, webSocketServer, local, loggerFactory);
    }

    /// <summary>Joins and reports the node: a <c>ready</c> event with its id and the ports it listens on.</summary>
    /// <param name="output">Where to report.</param>
    /// <param name="announce">Whether to say so on stderr too (the long-running commands, or with <c>--verbose</c>).</param>
    /// <param name="cancellationToken">Cancels joining.</param>
    public async Task JoinAsync(Output output, bool announce, CancellationToken cancellationToken)
    {
        try
        {
            await Network.JoinAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidOperationException or UnauthorizedAccessException)
        {
            throw new CommandException($"Could not join the mesh: {ex.Message}", ex);
        }

        var ready = new JsonObject
        {
            ["id"] = Network.Id.ToString(),
            ["network"] = Network.Name,
            ["tcpPort"] = Tcp is { } tcp && Settings.TcpPort is not null ? tcp.Port : null,
            ["webSocketUrl"] = WebSocketServer?.Url?.ToString(),
            ["local"] = LocalTransport is not null,
            ["endpoint"] = Network.Options.Endpoint,
        };
        output.Event("ready", ready);
        if (announce || Settings.LogLevel <= LogLevel.Debug)
        {
            output.Status(Describe());
        }
    }

    /// <summary>Describes the node in one line: id, network and what it listens on.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Tcp is { } tcp && Settings.TcpPort is not null)
        {
            parts.Add($"tcp port {tcp.Port}{(Settings.Tls ? string.Empty : " (no TLS)")}");
        }

        if (WebSocketServer?.Url is { } url)
        {
            parts.Add($"websocket {url}");
        }

        if (LocalTransport is not null)
        {
            parts.Add("machine-local");
        }

        if (Settings.Peers.Count > 0)
        {
            parts.Add($"peers {string.Join(", ", Settings.Peers.Select(p => $"{p.Host}:{p.Port}"))}");
        }

        return $"node {Network.Id} joined '{Network.Name}'" + (parts.Count > 0 ? $" ({string.Join("; ", parts)})" : string.Empty);
    }

    public async ValueTask DisposeAsync()
    {
        await Network.DisposeAsync().ConfigureAwait(false);
        foreach (ITransport transport in Network.Options.Transports)
        {
            if (transport is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
        }

        LoggerFactory.Dispose();
    }
}
