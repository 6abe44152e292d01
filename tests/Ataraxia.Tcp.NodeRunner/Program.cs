using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Ataraxia.Authentication;
using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Tcp.Discovery;
using Ataraxia.Testing.Hosts;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.NodeRunner;

/// <summary>
/// One Ataraxia node with a TCP transport (TLS by default), driven over JSON lines: commands on stdin, events on
/// stdout. The multi-host tests start one per network namespace (<c>ip netns exec ns dotnet this.dll …</c>).
/// </summary>
/// <remarks>
/// <para>Arguments (all optional):</para>
/// <code>
/// --name NETWORK           network name (default "atx-multihost")
/// --secret SECRET          shared secret (SharedSecretAuth); anonymous without it
/// --bind ADDRESS           address to listen on, repeatable (default: every interface)
/// --port N                 port to listen on (default 0: the system picks)
/// --peer HOST:PORT         a peer to keep connected to, repeatable ([v6]:port for IPv6)
/// --plaintext              no TLS
/// --mdns-interface IF      discover peers by mDNS (MdnsDiscovery) on interface IF only; reports mdns-found and
///                          mdns-lost events (instance, id, port, addresses, security, compatible)
/// --mdns-ttl SECONDS      TTL of every published mDNS record (default 120 s for host records, 75 min for others)
/// --mdns-host-name NAME    host name for mDNS (namespaces share the machine's host name, so give each node one)
/// --ping-interval MS       PeerSessionOptions.PingInterval
/// --ping-check-interval MS PeerSessionOptions.PingCheckInterval
/// --ping-timeout MS        PeerSessionOptions.PingTimeout
/// --reconnect-max-delay MS TcpTransportOptions.ReconnectMaxDelay
/// </code>
/// <para>Events (stdout, one JSON object a line):</para>
/// <code>
/// {"event":"ready","id":ID,"port":N}        joined and listening
/// {"event":"available","id":ID}             / "unavailable"
/// {"event":"message","from":ID,"type":T,"text":S}
/// {"event":"sent","seq":N} / {"event":"send-failed","seq":N,"error":E}
/// {"event":"nodes","seq":N,"ids":[ID…]}
/// {"event":"left"}                          after "leave" (or end of stdin), just before exiting 0
/// {"event":"notice","text":S}  {"event":"log","level":L,"category":C,"message":M}  {"event":"fatal","error":E}
/// </code>
/// <para>
/// Commands (stdin): <c>{"cmd":"send","to":ID,"type":T,"text":S,"seq":N}</c>, <c>{"cmd":"nodes"}</c>,
/// <c>{"cmd":"leave"}</c>. Node ids are in their string form (<see cref="NodeId.ToString"/>).
/// </para>
/// </remarks>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        RunnerOptions options;
        try
        {
            options = RunnerOptions.Parse(args);
        }
        catch (FormatException ex)
        {
            Output.Write(new JsonObject { ["event"] = "fatal", ["error"] = ex.Message });
            return 2;
        }

        try
        {
            return await RunAsync(options);
        }
        catch (Exception ex)
        {
            Output.Write(new JsonObject { ["event"] = "fatal", ["error"] = ex.ToString() });
            return 1;
        }
    }

    private static JsonObject Describe(string name, MdnsPeer peer) => new()
    {
        ["event"] = name,
        ["instance"] = peer.InstanceName,
        ["id"] = peer.NodeId?.ToString(),
        ["port"] = peer.Port,
        ["addresses"] = new JsonArray([.. peer.Addresses.Select(a => JsonValue.Create(a.ToString()))]),
        ["security"] = peer.Security,
        ["compatible"] = peer.IsCompatible,
    };

    private static async Task<int> RunAsync(RunnerOptions options)
    {
        using var loggerFactory = new JsonLoggerFactory(LogLevel.Warning);
        ITcpPeerDiscovery? discovery = null;
        if (options.MdnsInterface is { } mdnsInterface)
        {
            // Only the namespace's own interface: tests never announce on the host's real interfaces.
            discovery = new MdnsDiscovery(new MdnsDiscoveryOptions
            {
                InterfaceFilter = nic => nic.Name == mdnsInterface,
                HostName = options.MdnsHostName,
                HostRecordTtl = options.MdnsTtl ?? TimeSpan.FromSeconds(120),
                OtherRecordTtl = options.MdnsTtl ?? TimeSpan.FromMinutes(75),
            });
        }

        await using var transport = new TcpTransport(new TcpTransportOptions
        {
            BindAddresses = options.BindAddresses,
            Port = options.Port,
            Peers = options.Peers,
            Tls = options.Plaintext ? null : new TcpTlsOptions(),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = options.ReconnectMaxDelay,
            Discovery = discovery,
        });
        var session = new PeerSessionOptions();
        session = session with
        {
            PingInterval = options.PingInterval ?? session.PingInterval,
            PingCheckInterval = options.PingCheckInterval ?? session.PingCheckInterval,
            PingTimeout = options.PingTimeout ?? session.PingTimeout,
        };
        await using var network = new Network(new NetworkOptions
        {
            Name = options.Name,
            Transports = [transport],
            Authentication = options.Secret is null ? [AnonymousAuth.Instance] : [new SharedSecretAuth(options.Secret)],
            Session = session,
            LoggerFactory = loggerFactory,
        });
        if (discovery is MdnsDiscovery mdns)
        {
            mdns.PeerFound += (_, e) => Output.Write(Describe("mdns-found", e.Peer));
            mdns.PeerLost += (_, e) => Output.Write(Describe("mdns-lost", e.Peer));
        }

        network.NodeAvailable += (_, e) => Output.Write(new JsonObject { ["event"] = "available", ["id"] = e.Node.Id.ToString() });
        network.NodeUnavailable += (_, e) => Output.Write(new JsonObject { ["event"] = "unavailable", ["id"] = e.Node.Id.ToString() });

        await network.JoinAsync();
        Task messages = Task.Run(() => ReportMessagesAsync(network));
        Output.Write(new JsonObject
        {
            ["event"] = "ready",
            ["id"] = network.Id.ToString(),
            ["port"] = transport.Port,
            ["endpoints"] = new JsonArray([.. transport.LocalEndPoints.Select(e => (JsonNode?)e.ToString())]),
        });

        // Commands until "leave" or the end of stdin; both leave gracefully (BYE to every peer).
        List<Task> sends = [];
        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonObject command;
            try
            {
                command = JsonNode.Parse(line)?.AsObject() ?? throw new FormatException("null");
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or InvalidOperationException)
            {
                Output.Write(new JsonObject { ["event"] = "error", ["error"] = $"Not a JSON object: {line}" });
                continue;
            }

            JsonNode? seq = command["seq"]?.DeepClone();
            string? cmd = (string?)command["cmd"];
            if (cmd == "leave")
            {
                break;
            }

            switch (cmd)
            {
                case "send":
                    sends.Add(SendAsync(network, command, seq));
                    break;
                case "nodes":
                    Output.Write(new JsonObject
                    {
                        ["event"] = "nodes",
                        ["seq"] = seq,
                        ["ids"] = new JsonArray([.. network.Nodes.Select(n => (JsonNode?)n.Id.ToString())]),
                    });
                    break;
                default:
                    Output.Write(new JsonObject { ["event"] = "error", ["seq"] = seq, ["error"] = $"Unknown command: {cmd}" });
                    break;
            }
        }

        await network.LeaveAsync();
        await Task.WhenAll(sends);
        await messages;
        Output.Write(new JsonObject { ["event"] = "left" });
        return 0;
    }

    private static async Task SendAsync(Network network, JsonObject command, JsonNode? seq)
    {
        try
        {
            NodeId to = NodeId.Parse((string?)command["to"] ?? throw new FormatException("send needs \"to\"."));
            string type = (string?)command["type"] ?? "text";
            CborValue data = (string?)command["text"];
            await network.SendAsync(to, type, data);
            Output.Write(new JsonObject { ["event"] = "sent", ["seq"] = seq });
        }
        catch (Exception ex) when (ex is MessageDeliveryException or FormatException or InvalidOperationException or ArgumentException)
        {
            Output.Write(new JsonObject { ["event"] = "send-failed", ["seq"] = seq, ["error"] = ex.Message });
        }
    }

    private static async Task ReportMessagesAsync(Network network)
    {
        await foreach (Message message in network.ReadMessagesAsync())
        {
            CborValue data = message.Data;
            Output.Write(new JsonObject
            {
                ["event"] = "message",
                ["from"] = message.Source.Id.ToString(),
                ["type"] = message.Type,
                ["text"] = data.Kind == CborValueKind.Text ? data.AsString() : null,
            });
        }
    }
}

/// <summary>The runner's command line.</summary>
internal sealed record RunnerOptions
{
    public string Name { get; private init; } = "atx-multihost";

    public string? Secret { get; private init; }

    public IReadOnlyList<IPAddress> BindAddresses { get; private init; } = [];

    public int Port { get; private init; }

    public IReadOnlyList<DnsEndPoint> Peers { get; private init; } = [];

    public bool Plaintext { get; private init; }

    public string? MdnsInterface { get; private init; }

    public string? MdnsHostName { get; private init; }

    public TimeSpan? MdnsTtl { get; private init; }

    public TimeSpan? PingInterval { get; private init; }

    public TimeSpan? PingCheckInterval { get; private init; }

    public TimeSpan? PingTimeout { get; private init; }

    public TimeSpan ReconnectMaxDelay { get; private init; } = TimeSpan.FromSeconds(1);

    public static RunnerOptions Parse(string[] args)
    {
        var options = new RunnerOptions();
        List<IPAddress> bind = [];
        List<DnsEndPoint> peers = [];
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name == "--plaintext")
            {
                options = options with { Plaintext = true };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new FormatException($"{name} needs a value.");
            }

            string value = args[++i];
            options = name switch
            {
                "--name" => options with { Name = value },
                "--secret" => options with { Secret = value },
                "--port" => options with { Port = int.Parse(value, CultureInfo.InvariantCulture) },
                "--mdns-interface" => options with { MdnsInterface = value },
                "--mdns-host-name" => options with { MdnsHostName = value },
                "--mdns-ttl" => options with { MdnsTtl = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) },
                "--ping-interval" => options with { PingInterval = Milliseconds(value) },
                "--ping-check-interval" => options with { PingCheckInterval = Milliseconds(value) },
                "--ping-timeout" => options with { PingTimeout = Milliseconds(value) },
                "--reconnect-max-delay" => options with { ReconnectMaxDelay = Milliseconds(value) },
                "--bind" or "--peer" => options,
                _ => throw new FormatException($"Unknown option {name}."),
            };
            if (name == "--bind")
            {
                bind.Add(IPAddress.Parse(value));
            }
            else if (name == "--peer")
            {
                peers.Add(ParseEndPoint(value));
            }
        }

        return options with { BindAddresses = bind, Peers = peers };
    }

    private static TimeSpan Milliseconds(string value) => TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture));

    private static DnsEndPoint ParseEndPoint(string value)
    {
        int colon = value.LastIndexOf(':');
        if (colon <= 0)
        {
            throw new FormatException($"--peer {value}: expected HOST:PORT.");
        }

        string host = value[..colon].Trim('[', ']');
        return new DnsEndPoint(host, int.Parse(value[(colon + 1)..], CultureInfo.InvariantCulture));
    }
}
