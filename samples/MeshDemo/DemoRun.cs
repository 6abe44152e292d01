using System.Diagnostics;
using System.Globalization;
using System.Net;
using Ataraxia.Authentication;
using Ataraxia.Cbor;
using Ataraxia.Local;
using Ataraxia.Tcp;
using Ataraxia.Transport;
using Ataraxia.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia.MeshDemo;

/// <summary>The demo's steps, each bounded by a timeout; the first failure ends the run with exit code 1.</summary>
internal sealed class DemoRun(bool verbose)
{
    private const string NetworkName = "mesh-demo";
    private const int PingsPerPair = 5;

    // Generous for loopback; a step that takes longer is a failure worth reporting.
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly List<DemoNode> _nodes = [];
    private readonly List<Services> _services = [];
    private readonly List<(string What, TimeSpan Time)> _timings = [];

    public async Task<int> RunAsync()
    {
        // The last resort against a hang nobody foresaw: every step has its own, shorter timeout.
        using var watchdog = new Timer(
            _ =>
            {
                Console.Error.WriteLine($"FAILED: the demo did not finish within {RunTimeout.TotalSeconds:F0} s.");
                Environment.Exit(2);
            },
            null,
            RunTimeout,
            Timeout.InfiniteTimeSpan);

        // A directory of its own for the machine-local socket: parallel runs never meet, and only this user can enter it.
        DirectoryInfo rendezvous = Directory.CreateTempSubdirectory("ataraxia-mesh-");
        using ILoggerFactory loggerFactory = verbose
            ? LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Debug))
            : NullLoggerFactory.Instance;
        int exitCode = 0;
        try
        {
            await RunStepsAsync(Path.Combine(rendezvous.FullName, "mesh"), loggerFactory);
        }
        catch (StepFailedException ex)
        {
            Console.WriteLine();
            await Console.Error.WriteLineAsync($"FAILED: {ex.Message}");
            exitCode = 1;
        }
        finally
        {
            if (!await ShutdownAsync() && exitCode == 0)
            {
                exitCode = 1;
            }

            try
            {
                rendezvous.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Left in the temp directory; harmless.
            }
        }

        return exitCode;
    }

    private async Task RunStepsAsync(string socketPath, ILoggerFactory loggerFactory)
    {
        Console.WriteLine("Ataraxia mesh demo: five nodes in this process, over real loopback transports");
        Console.WriteLine();
        Console.WriteLine("                            +--tcp+tls-- cy  --ws--+");
        Console.WriteLine("  ada --local-- bob --------+                      +-- eve");
        Console.WriteLine("                            +--tcp+tls-- dee --ws--+");
        Console.WriteLine();
        Console.WriteLine($"  local: Unix domain socket {socketPath}");
        Console.WriteLine("  tcp:   127.0.0.1, TLS with ephemeral certificates; every link authenticates with a shared secret");
        Console.WriteLine("  ws:    WebSocket servers on 127.0.0.1 (standalone Kestrel), eve is their client");
        Console.WriteLine();

        var auth = new SharedSecretAuth("mesh-demo-secret");
        NetworkOptions Options(params ITransport[] transports) => new()
        {
            Name = NetworkName,
            Transports = transports,
            Authentication = [auth],
            LoggerFactory = loggerFactory,
        };

        // bob: leader of the machine-local socket, and the TCP + TLS listener the routers dial.
        var bobLocal = new MachineLocalTransport(new MachineLocalTransportOptions { Path = socketPath });
        var bobTcp = new TcpTransport(new TcpTransportOptions { BindAddresses = [IPAddress.Loopback], Port = 0 });
        DemoNode bob = AddNode("bob", Options(bobLocal, bobTcp));
        await StepAsync("bob joins: leads the machine-local socket and listens for TCP + TLS", async ct =>
        {
            await bob.Network.JoinAsync(ct);
            await WaitUntilAsync(() => bobLocal.IsLeader, ct);
            return $"127.0.0.1:{bobTcp.Port}";
        });

        // ada: a follower on the same socket, nothing else.
        var adaLocal = new MachineLocalTransport(new MachineLocalTransportOptions { Path = socketPath });
        DemoNode ada = AddNode("ada", Options(adaLocal));
        await StepAsync("ada joins: follows bob on the machine-local socket", async ct =>
        {
            await ada.Network.JoinAsync(ct);
            await WaitUntilAsync(() => ada.Network.TryGetNode(bob.Network.Id, out _), ct);
            return null;
        });

        // cy and dee: routers that dial bob over TCP + TLS and serve WebSockets.
        var routers = new List<(DemoNode Node, WebSocketServerTransport Server)>();
        foreach (string name in new[] { "cy", "dee" })
        {
            var tcp = new CrashableTransport(new TcpTransport(new TcpTransportOptions { Listen = false, Peers = [new DnsEndPoint("127.0.0.1", bobTcp.Port)] }));
            var server = new WebSocketServerTransport(new WebSocketServerTransportOptions { Address = IPAddress.Loopback, Port = 0, Path = "/mesh" });
            DemoNode router = AddNode(name, Options(tcp, new CrashableTransport(server)));
            routers.Add((router, server));
            await StepAsync($"{name} joins: dials bob over TCP + TLS, serves WebSockets", async ct =>
            {
                await router.Network.JoinAsync(ct);
                return server.Url?.ToString();
            });
        }

        // eve: a WebSocket client of both routers, so it has two ways into the mesh.
        var eveWs = new WebSocketClientTransport(new WebSocketClientTransportOptions { Servers = [.. routers.Select(r => r.Server.Url!)] });
        DemoNode eve = AddNode("eve", Options(eveWs));
        await StepAsync("eve joins: WebSocket client of cy and dee", async ct =>
        {
            await eve.Network.JoinAsync(ct);
            return null;
        });

        TimeSpan formed = await StepAsync("every node sees every other node", ct => WaitUntilAsync(() => AllSeeEachOther(), ct), MeshTimeout);
        _timings.Add(("mesh of 5 nodes formed (after the last join)", formed));
        await PrintTopologyAsync();

        // Services: eve offers a greeter, ada calls it through a typed proxy.
        var serviceOptions = new ServicesOptions { CallTimeout = StepTimeout, LoggerFactory = loggerFactory };
        var eveServices = new Services(eve.Network, serviceOptions);
        var adaServices = new Services(ada.Network, serviceOptions);
        _services.AddRange([eveServices, adaServices]);
        ServiceReference greeter = adaServices.Get("greeter");
        await StepAsync("eve registers the service 'greeter'; ada discovers it", async ct =>
        {
            await eveServices.JoinAsync(ct);
            eveServices.Register<IGreeter>("greeter", new Greeter("eve"));
            await adaServices.JoinAsync(ct);
            await greeter.WaitUntilAvailableAsync(ct);
            return $"provided by {string.Join(", ", greeter.Providers.Select(p => NameOf(p.Node)))}";
        });
        IGreeter proxy = greeter.As<IGreeter>();

        await SendAndCallAsync(ada, eve, proxy, "before");

        // Crash the router on ada's path to eve.
        NodeRoute route = ada.Network.GetRoute(eve.Network.Id) ?? throw new StepFailedException("ada has no route to eve.");
        DemoNode victim = NodeOf(route.Path[^2]);
        if (victim.Crashable.Count == 0)
        {
            throw new StepFailedException($"ada's route to eve ({PathText(route)}) does not pass a router the demo can crash.");
        }

        DemoNode survivor = routers.Select(r => r.Node).Single(n => n != victim);
        Console.WriteLine();
        Console.WriteLine($"ada's route to eve goes through {victim.Name}; crashing {victim.Name} (connections cut, no goodbye, nothing accepted any more)");
        long crashStart = Stopwatch.GetTimestamp();
        await StepAsync($"{victim.Name} crashed", async ct =>
        {
            await victim.CrashAsync(ct);
            return null;
        });
        await StepAsync($"the mesh routes around {victim.Name}", async ct =>
        {
            await WaitUntilAsync(
                () => AllSeeEachOther() && ada.Network.GetRoute(eve.Network.Id) is { } r && !r.Path.Contains(victim.Network.Id),
                ct);
            return $"ada -> eve: {PathText(ada.Network.GetRoute(eve.Network.Id)!)}";
        }, MeshTimeout);
        _timings.Add(($"re-routed around {victim.Name} (crash to new route)", Stopwatch.GetElapsedTime(crashStart)));
        await PrintTopologyAsync();

        await SendAndCallAsync(ada, eve, proxy, $"after, through {survivor.Name}");

        Console.WriteLine();
        Console.WriteLine("Summary");
        foreach ((string what, TimeSpan time) in _timings)
        {
            Console.WriteLine($"  {what,-52} {Format(time),10}");
        }

        Console.WriteLine($"  {"total run time",-52} {Format(Stopwatch.GetElapsedTime(_start)),10}");
    }

    private async Task SendAndCallAsync(DemoNode ada, DemoNode eve, IGreeter proxy, string when)
    {
        // A Node object lasts one period of availability: look eve up now rather than keep the one from before.
        if (!ada.Network.TryGetNode(eve.Network.Id, out Node? eveFromAda))
        {
            throw new StepFailedException("ada does not see eve.");
        }

        string path = PathText(ada.Network.GetRoute(eve.Network.Id));
        TaskCompletionSource<Message> hello = eve.ExpectHello();
        TimeSpan sent = await StepAsync($"ada sends a message to eve ({path})", async ct =>
        {
            await eveFromAda.SendAsync("demo:hello", new CborMap { ["text"] = $"hello eve, from ada ({when})" }, ct);
            Message message = await hello.Task.WaitAsync(ct);
            return $"eve got '{message.Data.AsMap()["text"].AsString()}' from {NameOf(message.Source.Id)}";
        });
        _timings.Add(($"message ada -> eve, {when}", sent));

        TimeSpan called = await StepAsync($"ada calls greeter.GreetAsync on eve ({path})", async ct =>
        {
            Greeting greeting = await proxy.GreetAsync("ada", ct);
            return $"\"{greeting.Text}\" from {greeting.From}";
        });
        _timings.Add(($"service call ada -> eve, {when}", called));
    }

    private async Task PrintTopologyAsync()
    {
        DemoNode[] alive = [.. _nodes.Where(n => !n.Crashed)];
        var rows = new List<string>();
        await StepAsync($"measure round trips between every pair ({PingsPerPair} pings each)", async ct =>
        {
            foreach (DemoNode from in alive)
            {
                foreach (Node node in from.Network.Nodes.OrderBy(n => _nodes.FindIndex(d => d.Network.Id == n.Id)))
                {
                    NodeRoute? route = from.Network.GetRoute(node.Id);
                    var samples = new List<TimeSpan>();
                    for (int i = 0; i < PingsPerPair; i++)
                    {
                        samples.Add(await from.PingAsync(node, ct));
                    }

                    samples.Sort();
                    string path = route is null ? "(no route)" : string.Join(" > ", [from.Name, .. route.Path.Select(NameOf)]);
                    rows.Add(string.Create(
                        CultureInfo.InvariantCulture,
                        $"  {from.Name,-5} {NameOf(node.Id),-5} {route?.Path.Count ?? 0,4}  {path,-22} {route?.Transport ?? "",-10} {samples[samples.Count / 2].TotalMilliseconds,8:F2} ms"));
                }
            }

            return null;
        });

        Console.WriteLine();
        Console.WriteLine("  Routes as each sender's routing table has them, and round trips of a message there and back:");
        Console.WriteLine($"  {"from",-5} {"to",-5} {"hops",4}  {"path",-22} {"first hop",-10} {"median",11}");
        foreach (string row in rows)
        {
            Console.WriteLine(row);
        }

        Console.WriteLine();
    }

    private DemoNode AddNode(string name, NetworkOptions options)
    {
        var node = new DemoNode(name, options, [.. options.Transports.OfType<CrashableTransport>()]);
        _nodes.Add(node);
        return node;
    }

    private bool AllSeeEachOther()
    {
        DemoNode[] alive = [.. _nodes.Where(n => !n.Crashed)];
        return alive.All(a => a.Network.Nodes.Count == alive.Length - 1 && alive.All(b => a == b || a.Network.TryGetNode(b.Network.Id, out _)));
    }

    private DemoNode NodeOf(NodeId id) => _nodes.FirstOrDefault(n => n.Network.Id == id) ?? throw new StepFailedException($"Unknown node {id}.");

    private string NameOf(NodeId id) => _nodes.FirstOrDefault(n => n.Network.Id == id)?.Name ?? id.ToString();

    private string PathText(NodeRoute? route) => route is null
        ? "no route"
        : $"via {string.Join(" > ", route.Path.Select(NameOf))}, first hop over {route.Transport}";

    /// <summary>Runs one step within its timeout and prints it with its duration; a failure names the step.</summary>
    private async Task<TimeSpan> StepAsync(string description, Func<CancellationToken, Task<string?>> action, TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? StepTimeout;
        using var cancellation = new CancellationTokenSource(limit);
        long start = Stopwatch.GetTimestamp();
        string? detail;
        try
        {
            detail = await action(cancellation.Token).WaitAsync(cancellation.Token);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw new StepFailedException($"{description}: not done within {limit.TotalSeconds:F0} s.");
        }
        catch (Exception ex) when (ex is not StepFailedException)
        {
            throw new StepFailedException($"{description}: {ex.GetType().Name}: {ex.Message}", ex);
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        Console.WriteLine($"[{Stopwatch.GetElapsedTime(_start).TotalSeconds,6:F2} s] ok  {description} ({Format(elapsed)}){(detail is null ? "" : $": {detail}")}");
        return elapsed;
    }

    private Task<TimeSpan> StepAsync(string description, Func<CancellationToken, Task> action, TimeSpan timeout) =>
        StepAsync(description, async ct =>
        {
            await action(ct);
            return (string?)null;
        }, timeout);

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    private async Task<bool> ShutdownAsync()
    {
        try
        {
            using var cancellation = new CancellationTokenSource(ShutdownTimeout);
            await Task.WhenAll(_services.Select(s => s.DisposeAsync().AsTask())).WaitAsync(cancellation.Token);
            await Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask())).WaitAsync(cancellation.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"FAILED: the nodes did not shut down within {ShutdownTimeout.TotalSeconds:F0} s.");
            return false;
        }
    }

    private static string Format(TimeSpan time) => time < TimeSpan.FromSeconds(1)
        ? string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:F1} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:F2} s");
}

/// <summary>A step of the demo failed; the message says which and why.</summary>
internal sealed class StepFailedException : Exception
{
    public StepFailedException()
    {
    }

    public StepFailedException(string message)
        : base(message)
    {
    }

    public StepFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
