using System.Net;
using System.Net.Sockets;
using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests;

[Trait("Category", "Integration")]
public sealed class TcpTransportTests
{
    [Fact]
    public async Task Two_nodes_connect_over_tls_and_exchange_messages()
    {
        await using TcpTestNode server = await TcpTestNode.StartAsync();
        await using TcpTestNode client = await TcpTestNode.StartAsync(peers: server.EndPoint);

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server) && server.Sees(client));
        await AssertDeliveredAsync(client, server);
        await AssertDeliveredAsync(server, client);
        Assert.True(server.Port > 0);
    }

    [Fact]
    public async Task Three_nodes_in_a_line_route_through_the_middle()
    {
        await using TcpTestNode middle = await TcpTestNode.StartAsync();
        await using TcpTestNode left = await TcpTestNode.StartAsync(peers: middle.EndPoint);
        await using TcpTestNode right = await TcpTestNode.StartAsync(peers: middle.EndPoint);

        await TaskTimeoutExtensions.WaitUntilAsync(() => left.Sees(right) && right.Sees(left));
        await AssertDeliveredAsync(left, right);
        await AssertDeliveredAsync(right, left);
        Assert.Equal(1, left.Transport.ConnectionCount);
    }

    [Fact]
    public async Task The_ends_reconnect_when_the_middle_node_restarts()
    {
        TcpTestNode middle = await TcpTestNode.StartAsync();
        int port = middle.Port;
        await using TcpTestNode left = await TcpTestNode.StartAsync(peers: middle.EndPoint);
        await using TcpTestNode right = await TcpTestNode.StartAsync(peers: middle.EndPoint);
        await TaskTimeoutExtensions.WaitUntilAsync(() => left.Sees(right) && right.Sees(left));

        await middle.DisposeAsync();
        await TaskTimeoutExtensions.WaitUntilAsync(() => !left.Sees(right) && !right.Sees(left));

        await using TcpTestNode restarted = await TcpTestNode.StartAsync(port: port);
        await TaskTimeoutExtensions.WaitUntilAsync(() => left.Sees(right) && right.Sees(left) && left.Sees(restarted));
        await AssertDeliveredAsync(left, right);
    }

    [Fact]
    public async Task A_peer_whose_port_comes_up_later_is_reached_once_it_appears()
    {
        int port = FreePort();
        await using TcpTestNode early = await TcpTestNode.StartAsync(peers: new DnsEndPoint("127.0.0.1", port));
        await TaskTimeoutExtensions.WaitUntilAsync(() => early.Logs.Entries.Count(e => e.EventId.Id == 105) >= 2);

        await using TcpTestNode late = await TcpTestNode.StartAsync(port: port);

        await TaskTimeoutExtensions.WaitUntilAsync(() => early.Sees(late) && late.Sees(early));
    }

    [Fact]
    public async Task Host_names_are_resolved_on_each_attempt()
    {
        await using TcpTestNode server = await TcpTestNode.StartAsync();
        await using TcpTestNode client = await TcpTestNode.StartAsync();

        client.Transport.AddPeer("localhost", server.Port);

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server));
    }

    [Ipv6LoopbackFact]
    public async Task Ipv6_loopback_works_where_available()
    {
        await using TcpTestNode server = await TcpTestNode.StartAsync(address: IPAddress.IPv6Loopback);
        await using TcpTestNode client = await TcpTestNode.StartAsync(peers: new DnsEndPoint("::1", server.Port));

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server) && server.Sees(client));
        await AssertDeliveredAsync(client, server);
    }

    [Fact]
    public async Task Simultaneous_connect_keeps_one_connection_without_flapping()
    {
        await using TcpTestNode a = await TcpTestNode.StartAsync();
        await using TcpTestNode b = await TcpTestNode.StartAsync();
        int unavailable = 0;
        a.Network.NodeUnavailable += (_, _) => Interlocked.Increment(ref unavailable);
        b.Network.NodeUnavailable += (_, _) => Interlocked.Increment(ref unavailable);

        a.Transport.AddPeer(b.EndPoint);
        b.Transport.AddPeer(a.EndPoint);

        await TaskTimeoutExtensions.WaitUntilAsync(() => a.Sees(b) && b.Sees(a) && a.Transport.ConnectionCount == 1 && b.Transport.ConnectionCount == 1);
        await TaskTimeoutExtensions.ExpectNothingAsync();
        await TaskTimeoutExtensions.ExpectNothingAsync();
        Assert.Equal(1, a.Transport.ConnectionCount);
        Assert.Equal(1, b.Transport.ConnectionCount);
        Assert.Equal(0, Volatile.Read(ref unavailable));
        await AssertDeliveredAsync(a, b);
    }

    [Fact]
    public async Task Plaintext_works_when_chosen_explicitly()
    {
        await using TcpTestNode server = await TcpTestNode.StartAsync(configure: o => o with { Tls = null });
        await using TcpTestNode client = await TcpTestNode.StartAsync(configure: o => o with { Tls = null }, peers: server.EndPoint);

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server) && server.Sees(client));
        Assert.Contains(server.Logs.Entries, e => e.EventId.Id == 108);
    }

    internal static async Task AssertDeliveredAsync(TcpTestNode from, TcpTestNode to)
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

        to.Network.MessageReceived += Handler;
        try
        {
            await from.Network.SendAsync(to.Id, type, new CborMap { ["payload"] = new byte[] { 1, 2, 3 } }).DefaultTimeout();
            Message message = await received.Task.DefaultTimeout();
            Assert.Equal(from.Id, message.Source.Id);
        }
        finally
        {
            to.Network.MessageReceived -= Handler;
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fact that runs only where the IPv6 loopback address can be bound, and says so when skipped.</summary>
public sealed class Ipv6LoopbackFactAttribute : FactAttribute
{
    public Ipv6LoopbackFactAttribute()
    {
        if (!Socket.OSSupportsIPv6 || !CanBind(IPAddress.IPv6Loopback))
        {
            Skip = "IPv6 loopback (::1) is not available on this machine.";
        }
    }

    private static bool CanBind(IPAddress address)
    {
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
