using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Sessions;

/// <summary>
/// A peer that sends garbage must end only its own session, with a clear reason, and never make anything
/// throw out of the read loop, hang, or buffer without bound.
/// </summary>
public sealed class HostilePeerTests
{
    private static readonly PeerSessionOptions Options = new()
    {
        NegotiationTimeout = TimeSpan.FromSeconds(2),
        CloseTimeout = TimeSpan.FromMilliseconds(500),
    };

    public static TheoryData<string, string> HostileFrames => new()
    {
        // name, hex sent right after the server's HELLO
        { "truncated-hello-in-frame", "010c" },
        { "unknown-tag-5", "0105" },
        { "unknown-tag-21", "0115" },
        { "tag-beyond-byte", "03190100" },
        { "zero-length-frame", "00" },
        { "header-info-27", "1b0000000000000001" },
        { "header-info-31", "1f" },
        { "select-id-is-array", "0d0d8181818181818181818181818100" },
        { "select-id-too-long", "440d5841" + new string('a', 130) },
        { "select-count-huge", "160d50112233445566478899aabbccddeeff001bffffffffffffffff" },
        { "float-where-int", "0403f93e00" },
        { "begin-before-auth", "0110" },
        { "hello-to-a-server", "130c50112233445566478899aabbccddeeff0000" },
    };

    [Theory]
    [MemberData(nameof(HostileFrames))]
    public async Task Malformed_frame_during_negotiation_ends_the_session_with_a_protocol_error(string name, string hex)
    {
        await using ScriptedServer scripted = ScriptedServer.Start(Options);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;
        Assert.Equal(PeerMessageType.Hello, (await peer.ReceiveAsync()).Type);

        await peer.SendRawAsync(Convert.FromHexString(hex));

        Assert.True(PeerDisconnectReason.ProtocolError == await server.Completion.DefaultTimeout(), name);
        Assert.IsAssignableFrom<ProtocolException>(server.DisconnectError);
        await peer.WaitForEndOfStreamAsync();
    }

    [Fact]
    public async Task Negotiation_message_after_activation_is_a_protocol_error()
    {
        await using ScriptedServer scripted = await ScriptedServer.StartActiveAsync(Options);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;

        await peer.SendAsync(new PeerIdentify(PeerMessageType.Select, NodeId.NewId()));

        Assert.Equal(PeerDisconnectReason.ProtocolError, await server.Completion.DefaultTimeout());
    }

    [Fact]
    public async Task Unknown_tags_are_ignored_when_configured_for_message_transports()
    {
        await using ScriptedServer scripted = await ScriptedServer.StartActiveAsync(Options with { IgnoreUnknownMessageTypes = true });
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;

        await peer.SendRawAsync([0x01, 0x05, 0x01, 0x15]);
        await peer.SendAsync(new PeerNodeRequest([]));

        var request = Assert.IsType<PeerNodeRequest>(await server.Incoming.ReadAsync().AsTask().DefaultTimeout());
        Assert.Empty(request.Nodes);
        Assert.True(server.IsActive);
    }

    [Fact]
    public async Task Data_before_authentication_is_dropped_not_delivered()
    {
        await using ScriptedServer scripted = ScriptedServer.Start(Options);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;
        Assert.Equal(PeerMessageType.Hello, (await peer.ReceiveAsync()).Type);

        await peer.SendAsync(new PeerData(NodeId.NewId(), "x", new byte[] { 0xf6 }, [new PeerPathEntry(NodeId.NewId(), 0)]));
        await peer.SendAsync(new PeerNodeRequest([NodeId.NewId()]));
        await peer.SendAsync(new PeerIdentify(PeerMessageType.Select, NodeId.NewId()));
        Assert.Equal(PeerMessageType.Ok, (await peer.ReceiveAsync()).Type);
        await peer.SendAsync(new PeerAuth("anonymous", ReadOnlyMemory<byte>.Empty));
        Assert.Equal(PeerMessageType.Ok, (await peer.ReceiveAsync()).Type);
        await peer.SendAsync(PeerSignal.Begin);
        await server.WaitForActiveAsync().DefaultTimeout();
        await peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, 7));

        // The first message delivered is the one sent after activation.
        var delivered = Assert.IsType<PeerDataResult>(await server.Incoming.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal(7UL, delivered.Id);
    }

    [Fact]
    public async Task Oversized_length_prefix_closes_at_once_without_waiting_for_the_body()
    {
        await using ScriptedServer scripted = ScriptedServer.Start(Options with { MaxFrameSize = 1024 });
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;
        Assert.Equal(PeerMessageType.Hello, (await peer.ReceiveAsync()).Type);

        // Announces 2 GiB and sends none of it: the session must not wait for (or allocate) the body.
        await peer.SendRawAsync([0x1a, 0x7f, 0xff, 0xff, 0xff]);

        Assert.Equal(PeerDisconnectReason.ProtocolError, await server.Completion.DefaultTimeout());
        Assert.IsType<FrameTooLargeException>(server.DisconnectError);
    }

    [Fact]
    public async Task Frame_just_above_the_limit_is_refused_and_at_the_limit_is_accepted()
    {
        const int limit = 4096;
        var options = Options with { MaxFrameSize = limit };

        await using (var pair = new SessionPair(options))
        {
            pair.Start();
            await pair.Client.WaitForActiveAsync().DefaultTimeout();
            await pair.Server.WaitForActiveAsync().DefaultTimeout();
            var fits = MakeData(limit);
            Assert.Equal(limit, PeerMessageCodec.GetEncodedLength(fits));
            await pair.Client.SendAsync(fits);
            Assert.IsType<PeerData>(await pair.Server.Incoming.ReadAsync().AsTask().DefaultTimeout());
            Assert.Throws<ArgumentException>(() => pair.Client.TrySend(MakeData(limit + 1)));
        }

        await using ScriptedServer scripted = await ScriptedServer.StartActiveAsync(options);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;
        await peer.SendAsync(MakeData(limit + 1));
        Assert.Equal(PeerDisconnectReason.ProtocolError, await server.Completion.DefaultTimeout());
        Assert.IsType<FrameTooLargeException>(server.DisconnectError);
    }

    [Fact]
    public async Task Connection_ending_inside_a_frame_is_a_protocol_error()
    {
        await using ScriptedServer scripted = ScriptedServer.Start(Options);
        PeerSession server = scripted.Session;
        ScriptedPeer peer = scripted.Peer;
        Assert.Equal(PeerMessageType.Hello, (await peer.ReceiveAsync()).Type);

        await peer.SendRawAsync([0x13, 0x0d, 0x50, 0x11, 0x22]);
        await peer.CompleteAsync();

        Assert.Equal(PeerDisconnectReason.ProtocolError, await server.Completion.DefaultTimeout());
    }

    [Fact]
    public async Task Random_bytes_never_escape_the_read_loop()
    {
        // 2,000 seeded cases: random bytes during negotiation and after activation, split into random chunks.
        var random = new Random(20261121);
        var tasks = new List<Task>();
        for (int batch = 0; batch < 20; batch++)
        {
            tasks.Clear();
            for (int i = 0; i < 100; i++)
            {
                int seed = random.Next();
                bool afterActivation = i % 2 == 1;
                tasks.Add(RunRandomCaseAsync(seed, afterActivation));
            }

            await Task.WhenAll(tasks).DefaultTimeout();
        }
    }

    private static async Task RunRandomCaseAsync(int seed, bool afterActivation)
    {
        var random = new Random(seed);
        (DuplexPipe serverEnd, DuplexPipe rawEnd) = DuplexPipe.CreatePair();
        var server = new PeerSession(serverEnd, PeerRole.Server, NodeId.NewId(), Options with { MaxFrameSize = 64 * 1024 });
        var peer = new ScriptedPeer(rawEnd);
        server.Start();
        if (afterActivation)
        {
            await peer.NegotiateAsClientAsync(NodeId.NewId());
            await server.WaitForActiveAsync().DefaultTimeout();
        }

        byte[] garbage = new byte[random.Next(1, 300)];
        random.NextBytes(garbage);
        int offset = 0;
        while (offset < garbage.Length)
        {
            int chunk = Math.Min(garbage.Length - offset, random.Next(1, 40));
            await peer.SendRawAsync(garbage[offset..(offset + chunk)]);
            offset += chunk;
        }

        await peer.CompleteAsync();
        PeerDisconnectReason reason = await server.Completion.DefaultTimeout();
        Assert.True(
            reason is PeerDisconnectReason.ProtocolError or PeerDisconnectReason.RemoteClosed or PeerDisconnectReason.RemoteBye
                or PeerDisconnectReason.AuthenticationFailed,
            $"seed {seed}: unexpected reason {reason} ({server.DisconnectError})");
        if (server.DisconnectError is { } error)
        {
            Assert.True(error is ProtocolException or IOException or AuthenticationFailedException, $"seed {seed}: {error}");
        }

        await server.DisposeAsync();
    }

    private static PeerData MakeData(int encodedLength)
    {
        NodeId target = NodeId.NewId();
        var path = new[] { new PeerPathEntry(NodeId.NewId(), 0) };
        var empty = new PeerData(target, "t", ReadOnlyMemory<byte>.Empty, path);
        int overhead = PeerMessageCodec.GetEncodedLength(empty) - 1;
        int payload = encodedLength - overhead - 1;
        while (PeerMessageCodec.GetEncodedLength(new PeerData(target, "t", new byte[payload], path)) > encodedLength)
        {
            payload--;
        }

        var data = new PeerData(target, "t", new byte[payload], path);
        Assert.Equal(encodedLength, PeerMessageCodec.GetEncodedLength(data));
        return data;
    }
}
