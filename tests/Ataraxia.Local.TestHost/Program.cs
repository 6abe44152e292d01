using System.Text.Json.Nodes;
using Ataraxia.Testing.Hosts;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Local.TestHost;

/// <summary>
/// One Ataraxia node with a <see cref="MachineLocalTransport"/>, reporting events as JSON lines on stdout.
/// </summary>
/// <remarks>
/// <para>Arguments: <c>--path PATH</c> (the rendezvous, required), <c>--name NETWORK</c> (default "atx-local"),
/// <c>--wait-for-go</c> (print <c>started</c> and join only after a <c>go</c> line on stdin, so a test can start
/// many processes at the same instant).</para>
/// <para>Events: <c>{"event":"started"}</c>, <c>{"event":"ready","id":ID,"isLeader":B}</c>,
/// <c>{"event":"leader-changed","isLeader":B}</c>, <c>{"event":"available","id":ID}</c> / <c>"unavailable"</c>,
/// <c>{"event":"log",…}</c> (warnings and errors), <c>{"event":"left"}</c>, <c>{"event":"fatal","error":E}</c>.</para>
/// <para>The node leaves and the process exits when stdin ends.</para>
/// </remarks>
internal static class Program
{
    public static Task<int> Main(string[] args) => Output.RunAsync(() => RunAsync(args));

    private static async Task<int> RunAsync(string[] args)
    {
        string? path = null;
        string name = "atx-local";
        bool waitForGo = false;
        int? tcpPort = null;
        string? tcpBind = null;
        var tcpPeers = new List<System.Net.DnsEndPoint>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--path":
                    path = args[++i];
                    break;
                case "--name":
                    name = args[++i];
                    break;
                case "--wait-for-go":
                    waitForGo = true;
                    break;
                case "--tcp-when-leader":
                    tcpPort = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--tcp-bind":
                    tcpBind = args[++i];
                    break;
                case "--tcp-peer":
                    string[] parts = args[++i].Split(':');
                    tcpPeers.Add(new System.Net.DnsEndPoint(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                default:
                    throw new FormatException($"Unknown option {args[i]}.");
            }
        }

        using var loggerFactory = new JsonLoggerFactory(LogLevel.Warning);
        await using var transport = new MachineLocalTransport(new MachineLocalTransportOptions { Path = path });
        await using var network = new Network(new NetworkOptions
        {
            Name = name,
            Transports = [transport],
            LoggerFactory = loggerFactory,
        });
        // The leader pattern: the machine's leader adds a TCP transport (listening on the machine's address and dialling
        // the other machines); a process that stops leading removes it.
        Ataraxia.Tcp.TcpTransport? tcp = null;
        var leadership = new SemaphoreSlim(1, 1);
        transport.LeadershipChanged += (_, e) =>
        {
            Output.Write(new JsonObject { ["event"] = "leader-changed", ["isLeader"] = e.IsLeader });
            if (tcpPort is int port)
            {
                _ = Task.Run(async () =>
                {
                    await leadership.WaitAsync();
                    try
                    {
                        if (e.IsLeader && tcp is null && network.IsJoined)
                        {
                            tcp = new Ataraxia.Tcp.TcpTransport(new Ataraxia.Tcp.TcpTransportOptions
                            {
                                BindAddresses = tcpBind is null ? [] : [System.Net.IPAddress.Parse(tcpBind)],
                                Port = port,
                                Peers = tcpPeers,
                            });
                            await network.AddTransportAsync(tcp);
                            Output.Write(new JsonObject { ["event"] = "tcp-added", ["port"] = tcp.Port });
                        }
                        else if (!e.IsLeader && tcp is not null)
                        {
                            await network.RemoveTransportAsync(tcp);
                            await tcp.DisposeAsync();
                            tcp = null;
                            Output.Write(new JsonObject { ["event"] = "tcp-removed" });
                        }
                    }
                    catch (Exception ex)
                    {
                        Output.Write(new JsonObject { ["event"] = "fatal", ["error"] = ex.ToString() });
                    }
                    finally
                    {
                        leadership.Release();
                    }
                });
            }
        };
        network.NodeAvailable += (_, e) => Output.Write(new JsonObject { ["event"] = "available", ["id"] = e.Node.Id.ToString() });
        network.NodeUnavailable += (_, e) => Output.Write(new JsonObject { ["event"] = "unavailable", ["id"] = e.Node.Id.ToString() });

        if (waitForGo)
        {
            Output.Write(new JsonObject { ["event"] = "started" });
            while (await Console.In.ReadLineAsync() is { } line && line.Trim() != "go")
            {
            }
        }

        await network.JoinAsync();
        Output.Write(new JsonObject { ["event"] = "ready", ["id"] = network.Id.ToString(), ["isLeader"] = transport.IsLeader });

        while (await Console.In.ReadLineAsync() is not null)
        {
        }

        await network.LeaveAsync();
        Output.Write(new JsonObject { ["event"] = "left" });
        return 0;
    }
}
