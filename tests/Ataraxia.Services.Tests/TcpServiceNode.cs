using System.Net;
using Ataraxia.Authentication;
using Ataraxia.Tcp;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>A network with one TCP transport (TLS, the default) on 127.0.0.1 and its joined <see cref="Services"/>.</summary>
internal sealed class TcpServiceNode : IAsyncDisposable
{
    /// <summary>The shared secret every node of these tests (the test host included) authenticates with.</summary>
    public const string Secret = "s3cret";

    /// <summary>The network name every node of these tests (the test host included) uses.</summary>
    public const string NetworkName = "services-tcp-tests";

    private int _stopped;

    private TcpServiceNode(Network network, TcpTransport transport, Services services, TestLoggerFactory logs)
    {
        Network = network;
        Transport = transport;
        Services = services;
        Logs = logs;
    }

    public Network Network { get; }

    public TcpTransport Transport { get; }

    public Services Services { get; }

    public TestLoggerFactory Logs { get; }

    public NodeId Id => Network.Id;

    public DnsEndPoint EndPoint => new(IPAddress.Loopback.ToString(), Transport.Port);

    /// <summary>Starts a node that listens on 127.0.0.1 (a port the system picks) and keeps connected to <paramref name="peers"/>.</summary>
    public static async Task<TcpServiceNode> StartAsync(ServicesOptions? options = null, params DnsEndPoint[] peers)
    {
        var transport = new TcpTransport(new TcpTransportOptions
        {
            BindAddresses = [IPAddress.Loopback],
            Port = 0,
            Peers = peers,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        });
        var logs = new TestLoggerFactory();
        var network = new Network(new NetworkOptions
        {
            Name = NetworkName,
            Transports = [transport],
            Authentication = [new SharedSecretAuth(Secret)],
            LoggerFactory = logs,
        });
        await network.JoinAsync().DefaultTimeout();
        var services = new Services(network, options);
        await services.JoinAsync().DefaultTimeout();
        return new TcpServiceNode(network, transport, services, logs);
    }

    /// <summary>Waits until every node sees every other one (directly or through a router).</summary>
    public static Task WaitForMeshAsync(params TcpServiceNode[] nodes) =>
        TaskTimeoutExtensions.WaitUntilAsync(() => nodes.All(n => nodes.All(o => o == n || n.Sees(o))));

    public bool Sees(TcpServiceNode other) => Network.TryGetNode(other.Id, out _);

    /// <summary>Leaves in order: services first (they withdraw and tell the others), then the network.</summary>
    public async Task LeaveAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await Services.DisposeAsync().DefaultTimeout();
        await Network.DisposeAsync().DefaultTimeout();
        await Transport.DisposeAsync().DefaultTimeout();
    }

    /// <summary>Drops off the mesh without stopping the services first: the others see the node go, not a withdrawal.</summary>
    public async Task DropAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await Network.DisposeAsync().DefaultTimeout();
        await Transport.DisposeAsync().DefaultTimeout();
        await Services.DisposeAsync().DefaultTimeout();
    }

    public async ValueTask DisposeAsync()
    {
        await LeaveAsync();

        // Whatever a test provokes, nothing may go wrong badly enough to be logged as an error.
        TestLoggerFactory.LogEntry[] errors = [.. Logs.Errors];
        Assert.True(errors.Length == 0, $"Node {Id} logged errors:\n{string.Join('\n', errors.Select(e => $"{e.Category}: {e.Message} {e.Exception}"))}");
    }
}
