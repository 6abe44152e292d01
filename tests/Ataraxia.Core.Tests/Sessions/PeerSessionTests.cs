using Ataraxia.Authentication;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Sessions;

public sealed class PeerSessionTests
{
    private static readonly PeerSessionOptions Fast = new()
    {
        NegotiationTimeout = TimeSpan.FromSeconds(5),
        CloseTimeout = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task Anonymous_session_becomes_active_on_both_sides()
    {
        await using var pair = new SessionPair(Fast);
        pair.Start();

        NodeId seenByServer = await pair.Server.WaitForActiveAsync().DefaultTimeout();
        NodeId seenByClient = await pair.Client.WaitForActiveAsync().DefaultTimeout();

        Assert.Equal(pair.ClientId, seenByServer);
        Assert.Equal(pair.ServerId, seenByClient);
        Assert.Equal("anonymous", pair.Server.AuthenticationMethod);
        Assert.Equal("anonymous", pair.Client.AuthenticationMethod);
        Assert.True(pair.Server.IsActive);
        Assert.True(pair.Client.IsActive);
        Assert.Equal(PeerDisconnectReason.None, pair.Server.DisconnectReason);
    }

    [Fact]
    public async Task Shared_secret_session_becomes_active_on_both_sides()
    {
        var options = Fast with { AuthProviders = [new SharedSecretAuth("correct horse")] };
        await using var pair = new SessionPair(options);
        pair.Start();

        Assert.Equal(pair.ClientId, await pair.Server.WaitForActiveAsync().DefaultTimeout());
        Assert.Equal(pair.ServerId, await pair.Client.WaitForActiveAsync().DefaultTimeout());
        Assert.Equal("shared-secret", pair.Server.AuthenticationMethod);
        Assert.Equal("shared-secret", pair.Client.AuthenticationMethod);
    }

    [Fact]
    public async Task Wrong_secret_fails_authentication_on_both_sides_and_closes()
    {
        var serverOptions = Fast with { AuthProviders = [new SharedSecretAuth("server secret")] };
        var clientOptions = Fast with { AuthProviders = [new SharedSecretAuth("client secret")] };
        await using var pair = new SessionPair(serverOptions, clientOptions);
        pair.Start();

        var serverError = await Assert.ThrowsAsync<PeerSessionClosedException>(() => pair.Server.WaitForActiveAsync().DefaultTimeout());
        var clientError = await Assert.ThrowsAsync<PeerSessionClosedException>(() => pair.Client.WaitForActiveAsync().DefaultTimeout());

        Assert.Equal(PeerDisconnectReason.AuthenticationFailed, serverError.Reason);
        Assert.Equal(PeerDisconnectReason.AuthenticationFailed, clientError.Reason);
        Assert.Equal(PeerDisconnectReason.AuthenticationFailed, await pair.Server.Completion.DefaultTimeout());
        Assert.Equal(PeerDisconnectReason.AuthenticationFailed, await pair.Client.Completion.DefaultTimeout());
        Assert.False(pair.Server.IsActive);
        Assert.False(pair.Client.IsActive);
    }

    [Fact]
    public async Task Client_falls_back_to_its_next_provider_after_a_server_reject()
    {
        var serverOptions = Fast with { AuthProviders = [new SharedSecretAuth("s3cret")] };
        var clientOptions = Fast with { AuthProviders = [AnonymousAuth.Instance, new SharedSecretAuth("s3cret")] };
        await using var pair = new SessionPair(serverOptions, clientOptions);
        pair.Start();

        await pair.Server.WaitForActiveAsync().DefaultTimeout();
        await pair.Client.WaitForActiveAsync().DefaultTimeout();
        Assert.Equal("shared-secret", pair.Server.AuthenticationMethod);
        Assert.Equal("shared-secret", pair.Client.AuthenticationMethod);
    }

    [Fact]
    public async Task Server_rejects_unknown_methods_and_the_client_gives_up()
    {
        var serverOptions = Fast with { AuthProviders = [new SharedSecretAuth("s3cret")] };
        var clientOptions = Fast with { AuthProviders = [AnonymousAuth.Instance] };
        await using var pair = new SessionPair(serverOptions, clientOptions);
        pair.Start();

        Assert.Equal(PeerDisconnectReason.AuthenticationFailed, await pair.Client.Completion.DefaultTimeout());
        Assert.Equal(PeerDisconnectReason.AuthenticationFailed, await pair.Server.Completion.DefaultTimeout());
    }

    [Fact]
    public async Task Server_drops_a_client_that_stalls_after_select()
    {
        var options = Fast with { NegotiationTimeout = TimeSpan.FromMilliseconds(300) };
        await using ScriptedServer scripted = ScriptedServer.Start(options);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;

        Assert.Equal(PeerMessageType.Hello, (await peer.ReceiveAsync()).Type);
        await peer.SendAsync(new PeerIdentify(PeerMessageType.Select, NodeId.NewId()));
        Assert.Equal(PeerMessageType.Ok, (await peer.ReceiveAsync()).Type);

        // The peer now says nothing more.
        Assert.Equal(PeerDisconnectReason.NegotiationTimeout, await server.Completion.DefaultTimeout());
        var error = await Assert.ThrowsAsync<PeerSessionClosedException>(() => server.WaitForActiveAsync());
        Assert.Equal(PeerDisconnectReason.NegotiationTimeout, error.Reason);
        await peer.WaitForEndOfStreamAsync();
    }

    [Fact]
    public async Task Client_drops_a_server_that_never_answers_select()
    {
        (DuplexPipe clientEnd, DuplexPipe rawEnd) = DuplexPipe.CreatePair();
        var options = Fast with { NegotiationTimeout = TimeSpan.FromMilliseconds(300) };
        await using var client = new PeerSession(clientEnd, PeerRole.Client, NodeId.NewId(), options);
        var peer = new ScriptedPeer(rawEnd);
        client.Start();

        await peer.SendAsync(new PeerIdentify(PeerMessageType.Hello, NodeId.NewId()));
        Assert.Equal(PeerMessageType.Select, (await peer.ReceiveAsync()).Type);

        Assert.Equal(PeerDisconnectReason.NegotiationTimeout, await client.Completion.DefaultTimeout());
    }

    [Fact]
    public async Task Server_drops_a_client_that_never_sends_select()
    {
        (DuplexPipe serverEnd, _) = DuplexPipe.CreatePair();
        var options = Fast with { NegotiationTimeout = TimeSpan.FromMilliseconds(200) };
        await using var server = new PeerSession(serverEnd, PeerRole.Server, NodeId.NewId(), options);
        server.Start();

        Assert.Equal(PeerDisconnectReason.NegotiationTimeout, await server.Completion.DefaultTimeout());
    }

    [Fact]
    public async Task Ping_timeout_fires_when_the_peer_stops_pinging()
    {
        (DuplexPipe serverEnd, DuplexPipe rawEnd) = DuplexPipe.CreatePair();
        var options = Fast with
        {
            PingInterval = TimeSpan.FromSeconds(30),
            PingCheckInterval = TimeSpan.FromMilliseconds(50),
            PingTimeout = TimeSpan.FromMilliseconds(400),
        };
        await using var server = new PeerSession(serverEnd, PeerRole.Server, NodeId.NewId(), options);
        var peer = new ScriptedPeer(rawEnd);
        server.Start();
        await peer.NegotiateAsClientAsync(NodeId.NewId());
        await server.WaitForActiveAsync().DefaultTimeout();

        // The scripted peer never sends PING.
        Assert.Equal(PeerDisconnectReason.PingTimeout, await server.Completion.DefaultTimeout());
        Assert.IsType<TimeoutException>(server.DisconnectError);
    }

    [Fact]
    public async Task Steady_pings_keep_the_session_alive_and_measure_latency()
    {
        var options = Fast with
        {
            PingInterval = TimeSpan.FromMilliseconds(100),
            PingCheckInterval = TimeSpan.FromMilliseconds(50),
            PingTimeout = TimeSpan.FromSeconds(3),
            UseAccrualFailureDetector = false,
        };
        await using var pair = new SessionPair(options);
        pair.Start();
        await pair.Server.WaitForActiveAsync().DefaultTimeout();
        await pair.Client.WaitForActiveAsync().DefaultTimeout();

        // Ten PINGs each way: the link stayed up across many intervals.
        await TaskTimeoutExtensions.WaitUntilAsync(() => pair.Server.PingsReceived >= 10 && pair.Client.PingsReceived >= 10);

        Assert.True(pair.Server.IsActive);
        Assert.True(pair.Client.IsActive);
        Assert.InRange(pair.Server.Latency, 0, 1000);
        Assert.InRange(pair.Client.Latency, 0, 1000);
    }

    [Fact]
    public async Task Session_answers_ping_with_pong_even_during_negotiation()
    {
        await using ScriptedServer scripted = ScriptedServer.Start(Fast);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;

        Assert.Equal(PeerMessageType.Hello, (await peer.ReceiveAsync()).Type);
        await peer.SendAsync(PeerSignal.Ping);
        Assert.Equal(PeerMessageType.Pong, (await peer.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task Close_sends_bye_and_both_sides_end_cleanly()
    {
        await using var pair = new SessionPair(Fast);
        pair.Start();
        await pair.Server.WaitForActiveAsync().DefaultTimeout();
        await pair.Client.WaitForActiveAsync().DefaultTimeout();

        await pair.Client.CloseAsync().DefaultTimeout();

        Assert.Equal(PeerDisconnectReason.Manual, pair.Client.DisconnectReason);
        Assert.Equal(PeerDisconnectReason.RemoteBye, await pair.Server.Completion.DefaultTimeout());
        Assert.Null(pair.Server.DisconnectError);
        Assert.False(await pair.Server.Incoming.WaitToReadAsync().AsTask().DefaultTimeout());
        await Assert.ThrowsAsync<PeerSessionClosedException>(() => pair.Client.SendAsync(new PeerNodeRequest([])).AsTask());
    }

    [Fact]
    public async Task Bye_from_a_raw_peer_ends_the_session_with_remote_bye()
    {
        await using ScriptedServer scripted = await ScriptedServer.StartActiveAsync(Fast);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;

        await peer.SendAsync(PeerSignal.Bye);

        Assert.Equal(PeerDisconnectReason.RemoteBye, await server.Completion.DefaultTimeout());
        await peer.WaitForEndOfStreamAsync();
    }

    [Fact]
    public async Task Messages_flow_both_ways_in_order_once_active()
    {
        await using var pair = new SessionPair(Fast);
        pair.Start();
        await pair.Server.WaitForActiveAsync().DefaultTimeout();
        await pair.Client.WaitForActiveAsync().DefaultTimeout();

        for (ulong i = 0; i < 500; i++)
        {
            await pair.Client.SendAsync(new PeerDataResult(PeerMessageType.DataAck, i));
            await pair.Server.SendAsync(new PeerDataResult(PeerMessageType.DataReject, i));
        }

        for (ulong i = 0; i < 500; i++)
        {
            var atServer = Assert.IsType<PeerDataResult>(await pair.Server.Incoming.ReadAsync().AsTask().DefaultTimeout());
            var atClient = Assert.IsType<PeerDataResult>(await pair.Client.Incoming.ReadAsync().AsTask().DefaultTimeout());
            Assert.Equal((PeerMessageType.DataAck, i), (atServer.Type, atServer.Id));
            Assert.Equal((PeerMessageType.DataReject, i), (atClient.Type, atClient.Id));
        }
    }

    [Fact]
    public async Task Sending_before_active_or_sending_session_owned_messages_is_refused()
    {
        await using var pair = new SessionPair(Fast);
        Assert.Throws<InvalidOperationException>(() => pair.Client.TrySend(new PeerNodeRequest([])));
        pair.Start();
        await pair.Client.WaitForActiveAsync().DefaultTimeout();

        Assert.Throws<ArgumentException>(() => pair.Client.TrySend(PeerSignal.Ping));
        Assert.Throws<ArgumentException>(() => pair.Client.TrySend(new PeerIdentify(PeerMessageType.Hello, NodeId.NewId())));
        Assert.True(pair.Client.TrySend(new PeerNodeRequest([])));
    }

    [Fact]
    public async Task A_full_inbound_queue_pauses_reading_but_close_still_completes()
    {
        var options = Fast with { InboundQueueCapacity = 1, CloseTimeout = TimeSpan.FromMilliseconds(300) };
        await using ScriptedServer scripted = await ScriptedServer.StartActiveAsync(options);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;

        for (ulong i = 0; i < 10; i++)
        {
            await peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, i));
        }

        // Nobody reads Incoming; the session must still close within its close timeout.
        await server.CloseAsync().DefaultTimeout();
        Assert.Equal(PeerDisconnectReason.Manual, server.DisconnectReason);
    }

    [Fact]
    public async Task Dispose_during_negotiation_ends_the_session()
    {
        (DuplexPipe serverEnd, DuplexPipe rawEnd) = DuplexPipe.CreatePair();
        var server = new PeerSession(serverEnd, PeerRole.Server, NodeId.NewId(), Fast);
        var peer = new ScriptedPeer(rawEnd);
        server.Start();
        Assert.Equal(PeerMessageType.Hello, (await peer.ReceiveAsync()).Type);

        await peer.CompleteAsync();
        await server.DisposeAsync().AsTask().DefaultTimeout();

        Assert.NotEqual(PeerDisconnectReason.None, server.DisconnectReason);
        await Assert.ThrowsAsync<PeerSessionClosedException>(() => server.WaitForActiveAsync());
    }
}
