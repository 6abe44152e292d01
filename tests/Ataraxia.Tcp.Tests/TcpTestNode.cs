using System.Net;
using Ataraxia.Authentication;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests;

/// <summary>A network with one TCP transport on loopback, for integration tests.</summary>
internal sealed class TcpTestNode : IAsyncDisposable
{
    private TcpTestNode(Network network, TcpTransport transport, TestLoggerFactory logs)
    {
        Network = network;
        Transport = transport;
        Logs = logs;
    }

    public Network Network { get; }

    public TcpTransport Transport { get; }

    public TestLoggerFactory Logs { get; }

    public NodeId Id => Network.Id;

    public int Port => Transport.Port;

    public static async Task<TcpTestNode> StartAsync(
        string? secret = "s3cret",
        int port = 0,
        IPAddress? address = null,
        Func<TcpTransportOptions, TcpTransportOptions>? configure = null,
        params DnsEndPoint[] peers)
    {
        var options = new TcpTransportOptions
        {
            BindAddresses = [address ?? IPAddress.Loopback],
            Port = port,
            Peers = peers,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        };
        var transport = new TcpTransport(configure is null ? options : configure(options));
        var logs = new TestLoggerFactory();
        var network = new Network(new NetworkOptions
        {
            Name = "tcp-tests",
            Transports = [transport],
            Authentication = secret is null ? [AnonymousAuth.Instance] : [new SharedSecretAuth(secret)],
            LoggerFactory = logs,
        });
        await network.JoinAsync().DefaultTimeout();
        return new TcpTestNode(network, transport, logs);
    }

    public DnsEndPoint EndPoint => new(IPAddress.Loopback.ToString(), Port);

    public bool Sees(TcpTestNode other) => Network.TryGetNode(other.Id, out _);

    public async ValueTask DisposeAsync()
    {
        await Network.DisposeAsync();
        await Transport.DisposeAsync();

        // Whatever a test provokes, nothing may go wrong badly enough to be logged as an error.
        Assert.Empty(Logs.Errors);
    }
}
