using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Cli;

/// <summary>What the transport and output options of a command line asked for.</summary>
internal sealed record MeshSettings
{
    public string NetworkName { get; init; } = MeshOptions.DefaultNetwork;

    /// <summary>Gets the TCP port to listen on (0 = any), or <see langword="null"/> not to listen on TCP.</summary>
    public int? TcpPort { get; init; }

    public IReadOnlyList<IPAddress> Bind { get; init; } = [];

    public IReadOnlyList<DnsEndPoint> Peers { get; init; } = [];

    public bool Mdns { get; init; }

    public bool Local { get; init; }

    public Uri? WebSocketListen { get; init; }

    public IReadOnlyList<Uri> WebSocketConnect { get; init; } = [];

    public string? Secret { get; init; }

    public bool Tls { get; init; } = true;

    public bool Json { get; init; }

    public LogLevel LogLevel { get; init; } = LogLevel.Warning;

    /// <summary>Gets a value indicating whether the node listens for other nodes (TCP, WebSocket server).</summary>
    public bool Listens => TcpPort is not null || WebSocketListen is not null;
}

/// <summary>The options every command shares: transports, authentication, output. They may stand before or after the command.</summary>
internal sealed class MeshOptions
{
    public const string DefaultNetwork = "ataraxia";

    public Option<string> Network { get; } = new("--network", "-n")
    {
        Description = "The network name: where machine-local and mDNS peers are looked for",
        HelpName = "name",
        DefaultValueFactory = _ => DefaultNetwork,
        Recursive = true,
    };

    public Option<int?> Tcp { get; } = new("--tcp")
    {
        Description = "Listen on TCP (TLS unless --no-tls); no port or 0 picks a free one",
        HelpName = "port",
        Recursive = true,
        CustomParser = ParsePort,
    };

    public Option<string[]> Bind { get; } = new("--bind")
    {
        Description = "Address to listen on for --tcp (repeatable); default: every interface",
        HelpName = "address",
        Recursive = true,
    };

    public Option<string[]> Peer { get; } = new("--peer", "-p")
    {
        Description = "Connect over TCP to host:port (repeatable); reconnects until the command ends",
        HelpName = "host:port",
        Recursive = true,
    };

    public Option<bool> Mdns { get; } = new("--mdns")
    {
        Description = "Find and announce TCP peers on the LAN with mDNS/DNS-SD (listens on TCP)",
        Recursive = true,
    };

    public Option<bool> Local { get; } = new("--local")
    {
        Description = "Join the machine-local mesh (the default when no other transport is given)",
        Recursive = true,
    };

    public Option<string> WebSocketListen { get; } = new("--ws-listen")
    {
        Description = "Run a WebSocket server, for example ws://0.0.0.0:7080/mesh (port 0 picks a free one)",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string[]> WebSocketConnect { get; } = new("--ws-connect")
    {
        Description = "Connect to a WebSocket server (repeatable), for example wss://mesh.example/mesh",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string> Secret { get; } = new("--secret")
    {
        Description = "Authenticate with a shared secret (visible to other users in the process list: prefer --secret-file)",
        HelpName = "text",
        Recursive = true,
    };

    public Option<string> SecretFile { get; } = new("--secret-file")
    {
        Description = "Authenticate with the shared secret in this file (one trailing line break is ignored)",
        HelpName = "path",
        Recursive = true,
    };

    public Option<bool> NoTls { get; } = new("--no-tls")
    {
        Description = "Plain TCP without TLS (every peer must use it too)",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Write one JSON object per line on stdout, for scripts",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log what the mesh does on stderr",
        Recursive = true,
    };

    public IEnumerable<Option> All => [Network, Tcp, Bind, Peer, Mdns, Local, WebSocketListen, WebSocketConnect, Secret, SecretFile, NoTls, Json, Verbose];

    /// <summary>Reads and checks the options; a mistake throws a usage error.</summary>
    public MeshSettings Read(ParseResult result)
    {
        string network = result.GetValue(Network) ?? DefaultNetwork;
        if (string.IsNullOrWhiteSpace(network))
        {
            throw CommandException.Usage("--network needs a name.");
        }

        int? tcpPort = result.GetValue(Tcp);
        bool mdns = result.GetValue(Mdns);
        if (mdns)
        {
            tcpPort ??= 0;
        }

        var bind = new List<IPAddress>();
        foreach (string text in result.GetValue(Bind) ?? [])
        {
            if (!IPAddress.TryParse(text, out IPAddress? address))
            {
                throw CommandException.Usage($"--bind needs an IP address, not '{text}'.");
            }

            bind.Add(address);
        }

        if (bind.Count > 0 && tcpPort is null)
        {
            throw CommandException.Usage("--bind needs --tcp.");
        }

        List<DnsEndPoint> peers = [.. (result.GetValue(Peer) ?? []).Select(ParsePeer)];
        Uri? listen = result.GetValue(WebSocketListen) is { } listenText ? ParseWebSocketUrl(listenText, "--ws-listen", server: true) : null;
        List<Uri> connect = [.. (result.GetValue(WebSocketConnect) ?? []).Select(u => ParseWebSocketUrl(u, "--ws-connect", server: false))];

        string? secret = result.GetValue(Secret);
        string? secretFile = result.GetValue(SecretFile);
        if (secret is not null && secretFile is not null)
        {
            throw CommandException.Usage("Give --secret or --secret-file, not both.");
        }

        if (secretFile is not null)
        {
            try
            {
                secret = File.ReadAllText(secretFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw CommandException.Usage($"Cannot read --secret-file '{secretFile}': {ex.Message}");
            }

            secret = secret.EndsWith("\r\n", StringComparison.Ordinal) ? secret[..^2] : secret.EndsWith('\n') ? secret[..^1] : secret;
        }

        if (secret is { Length: 0 })
        {
            throw CommandException.Usage("The shared secret is empty.");
        }

        bool local = result.GetValue(Local) || (tcpPort is null && peers.Count == 0 && listen is null && connect.Count == 0);
        return new MeshSettings
        {
            NetworkName = network,
            TcpPort = tcpPort,
            Bind = bind,
            Peers = peers,
            Mdns = mdns,
            Local = local,
            WebSocketListen = listen,
            WebSocketConnect = connect,
            Secret = secret,
            Tls = !result.GetValue(NoTls),
            Json = result.GetValue(Json),
            LogLevel = result.GetValue(Verbose) ? LogLevel.Debug : LogLevel.Warning,
        };
    }

    internal static DnsEndPoint ParsePeer(string text)
    {
        int colon = text.LastIndexOf(':');
        string host = colon > 0 ? text[..colon] : string.Empty;
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (host.Length == 0 || (host.Contains(':', StringComparison.Ordinal) && !IPAddress.TryParse(host, out _))
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw CommandException.Usage($"--peer needs host:port (for example 192.168.1.20:7000 or [::1]:7000), not '{text}'.");
        }

        return new DnsEndPoint(host, port);
    }

    internal static Uri ParseWebSocketUrl(string text, string option, bool server)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? url) || url.Scheme is not ("ws" or "wss" or "http" or "https") || url.Host.Length == 0)
        {
            throw CommandException.Usage($"{option} needs a ws:// or wss:// URL, not '{text}'.");
        }

        if (server && url.Scheme is "wss" or "https")
        {
            throw CommandException.Usage($"{option} serves plain ws:// only (put a TLS-terminating proxy in front for wss://).");
        }

        return url;
    }

    /// <summary>Gives a bare <c>--tcp</c> (no port after it) the port 0, so that the next word stays what it is (<c>wait --tcp ready</c>).</summary>
    internal static string[] ExpandBareTcp(string[] args)
    {
        var expanded = new List<string>(args.Length);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--")
            {
                expanded.AddRange(args[i..]);
                break;
            }

            bool bare = args[i] == "--tcp" && (i + 1 == args.Length || args[i + 1].Length == 0 || !args[i + 1].All(char.IsAsciiDigit));
            expanded.Add(bare ? "--tcp=0" : args[i]);
        }

        return [.. expanded];
    }

    private static int? ParsePort(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            result.AddError($"--tcp needs a port from 0 to 65535, not '{text}'.");
            return null;
        }

        return port;
    }
}
