using System.Net;
using System.Net.Sockets;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests;

[Trait("Category", "Integration")]
public sealed class TcpSecurityTests
{
    private const int AuthenticationFailedEvent = 5;
    private const int SessionEndedEvent = 3;
    private const int AuthenticationRejectedEvent = 104;
    private const int BackoffEvent = 105;

    [Fact]
    public async Task A_wrong_secret_is_rejected_and_logged_once_per_backoff_cycle()
    {
        await using TcpTestNode server = await TcpTestNode.StartAsync(secret: "right");
        await using TcpTestNode client = await TcpTestNode.StartAsync(secret: "wrong", peers: server.EndPoint);

        // Several attempts happen, each failing authentication on both sides.
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Logs.Entries.Count(e => e.EventId.Id == BackoffEvent) >= 3);

        Assert.False(client.Sees(server));
        Assert.False(server.Sees(client));
        Assert.Single(client.Logs.Entries, e => e.EventId.Id == AuthenticationRejectedEvent);
        Assert.Contains(server.Logs.Entries, e => e.EventId.Id == SessionEndedEvent && e.Message.Contains("AuthenticationFailed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Transport_authentication_overrides_the_networks()
    {
        // Both networks are configured with different secrets, but their transports agree on one.
        var shared = new Ataraxia.Authentication.SharedSecretAuth("transport-secret");
        await using TcpTestNode server = await TcpTestNode.StartAsync(secret: "one", configure: o => o with { Authentication = [shared] });
        await using TcpTestNode client = await TcpTestNode.StartAsync(secret: "two", configure: o => o with { Authentication = [shared] }, peers: server.EndPoint);

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server) && server.Sees(client));
    }

    [Fact]
    public async Task A_tls_terminating_relay_makes_authentication_fail_on_both_sides()
    {
        await using TcpTestNode server = await TcpTestNode.StartAsync();
        await using var relay = new Relay(server.Port, tls: true);
        await using TcpTestNode client = await TcpTestNode.StartAsync(peers: new DnsEndPoint("127.0.0.1", relay.Port));

        // The relay completes TLS with both sides and forwards every byte, yet the proofs are bound to the keys
        // each side saw: the client sees the relay's key where the server's should be, and the reverse.
        await TaskTimeoutExtensions.WaitUntilAsync(() =>
            relay.Relayed >= 2
            && client.Logs.Entries.Any(e => e.EventId.Id == AuthenticationFailedEvent)
            && server.Logs.Entries.Any(e => e.EventId.Id == SessionEndedEvent && e.Message.Contains("AuthenticationFailed", StringComparison.Ordinal)));
        Assert.False(client.Sees(server));
        Assert.False(server.Sees(client));

        // Without the relay the same two nodes authenticate at once.
        client.Transport.AddPeer(server.EndPoint);
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server) && server.Sees(client));
    }

    [Fact]
    public async Task In_plaintext_mode_the_same_relay_is_transparent()
    {
        // Why TLS with channel binding matters: without it nothing tells the nodes a relay sits between them.
        await using TcpTestNode server = await TcpTestNode.StartAsync(configure: o => o with { Tls = null });
        await using var relay = new Relay(server.Port, tls: false);
        await using TcpTestNode client = await TcpTestNode.StartAsync(configure: o => o with { Tls = null }, peers: new DnsEndPoint("127.0.0.1", relay.Port));

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server) && server.Sees(client));
        Assert.Equal(1, relay.Relayed);
        await TcpTransportTests.AssertDeliveredAsync(client, server);
    }

    [Fact]
    public async Task Random_bytes_and_stalled_clients_do_not_affect_other_peers()
    {
        await using TcpTestNode server = await TcpTestNode.StartAsync(configure: o => o with { HandshakeTimeout = TimeSpan.FromMilliseconds(500) });
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await stalled.ConnectAsync(IPAddress.Loopback, server.Port);
        using var garbage = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await garbage.ConnectAsync(IPAddress.Loopback, server.Port);
        var random = new Random(5);
        byte[] noise = new byte[4096];
        random.NextBytes(noise);
        await garbage.SendAsync(noise);

        await using TcpTestNode client = await TcpTestNode.StartAsync(peers: server.EndPoint);
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server) && server.Sees(client));
        await TcpTransportTests.AssertDeliveredAsync(client, server);

        // Both bad connections are closed by the server: they read end-of-stream.
        Assert.Equal(0, await ReadUntilClosedAsync(garbage).DefaultTimeout());
        Assert.Equal(0, await ReadUntilClosedAsync(stalled).DefaultTimeout());
        await TaskTimeoutExtensions.WaitUntilAsync(() => server.Transport.ConnectionCount == 1);
    }

    [Fact]
    public async Task Connections_beyond_the_pending_limit_are_closed_at_once()
    {
        await using TcpTestNode server = await TcpTestNode.StartAsync(configure: o => o with { MaxPendingConnections = 3, HandshakeTimeout = TimeSpan.FromSeconds(20) });
        var sockets = new List<Socket>();
        try
        {
            int refusedWhileConnecting = 0;
            for (int i = 0; i < 10; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, server.Port);
                }
                catch (SocketException)
                {
                    // The server closed it so fast that the connect itself saw the reset.
                    refusedWhileConnecting++;
                }
            }

            // Well before the 20 s handshake timeout, everything beyond the first three was closed.
            await TaskTimeoutExtensions.WaitUntilAsync(() => refusedWhileConnecting + sockets.Count(IsClosedByPeer) >= 7, TimeSpan.FromSeconds(10));
            Assert.InRange(server.Transport.ConnectionCount, 0, 3);
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task<int> ReadUntilClosedAsync(Socket socket)
    {
        byte[] buffer = new byte[4096];
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer);
            }
            catch (SocketException)
            {
                return 0;
            }

            if (read == 0)
            {
                return 0;
            }
        }
    }

    private static bool IsClosedByPeer(Socket socket)
    {
        try
        {
            if (!socket.Connected)
            {
                return false;
            }

            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
