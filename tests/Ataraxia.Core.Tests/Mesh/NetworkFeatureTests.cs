using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Mesh;

public sealed class NetworkFeatureTests
{
    public sealed record ChatMessage(string Text, int Count, List<string> Tags, byte[] Blob, double Ratio, ChatAuthor? Author);

    public sealed record ChatAuthor(string Name, DateTimeOffset Since);

    [Fact]
    public async Task Typed_payloads_travel_with_camel_case_names()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(3);
        await mesh.LinkAllAsync([(0, 1), (1, 2)]);
        await mesh.WaitForVisibilityAsync();
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        mesh[2].MessageReceived += (_, e) => received.TrySetResult(e.Message);
        var sent = new ChatMessage("hi", 3, ["a", "b"], [1, 2, 3], 0.25, new ChatAuthor("ada", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)));

        Assert.True(mesh[0].TryGetNode(mesh[2].Id, out Node? target));
        await target.SendAsync("chat", sent);

        Message message = await received.Task.DefaultTimeout();
        CborMap wire = message.Data.AsMap();
        Assert.Equal(["text", "count", "tags", "blob", "ratio", "author"], wire.Keys);
        ChatMessage? copy = message.GetData<ChatMessage>();
        Assert.NotNull(copy);
        Assert.Equal(sent.Text, copy.Text);
        Assert.Equal(sent.Tags, copy.Tags);
        Assert.Equal(sent.Blob, copy.Blob);
        Assert.Equal(sent.Author, copy.Author);
    }

    [Fact]
    public async Task A_lossy_link_drops_some_messages_and_the_sender_sees_which()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(2, (_, o) => o with { AckTimeout = TimeSpan.FromMilliseconds(300) });
        await mesh.LinkAsync(0, 1);
        await mesh.WaitForVisibilityAsync();
        int delivered = 0;
        mesh[1].MessageReceived += (_, _) => Interlocked.Increment(ref delivered);
        mesh.Switchboard.SetDropRate(mesh.Transports[0], mesh.Transports[1], 0.5, seed: 3);

        Task<bool>[] sends = [.. Enumerable.Range(0, 40).Select(async i =>
        {
            try
            {
                await mesh[0].SendAsync(mesh[1].Id, "lossy", i);
                return true;
            }
            catch (MessageDeliveryException e) when (e.Failure == MessageDeliveryFailure.Timeout)
            {
                return false;
            }
        })];
        bool[] results = await Task.WhenAll(sends).DefaultTimeout();

        int acknowledged = results.Count(r => r);
        Assert.InRange(acknowledged, 1, 39);
        await TaskTimeoutExtensions.WaitUntilAsync(() => Volatile.Read(ref delivered) == acknowledged);
    }

    [Fact]
    public async Task Latency_gossip_sends_a_random_peer_the_details_of_every_other_known_node()
    {
        var transport = new ScriptedTransport();
        await using var network = new Network(new NetworkOptions
        {
            Name = "gossip",
            Transports = [transport],
            LatencyGossipInterval = TimeSpan.FromMilliseconds(200),
            Session = new() { CloseTimeout = TimeSpan.FromMilliseconds(100) },
        });
        await network.JoinAsync();
        NodeId peerId = NodeId.NewId();
        NodeId far = NodeId.NewId();
        ScriptedPeer peer = await transport.ConnectAsync(peerId);
        await peer.SendAsync(new PeerNodeSummary(1, [new NodeVersion(far, 1)]));
        await peer.ReceiveAsync<PeerNodeRequest>();
        await peer.SendAsync(new PeerNodeDetails(
        [
            new NodeDetails(peerId, 1, [new NodeNeighbour(network.Id, 0), new NodeNeighbour(far, 7)]),
            new NodeDetails(far, 1, [new NodeNeighbour(peerId, 7)]),
        ]));

        // Gossip is unsolicited NODE_DETAILS: everything known except the local node and the peer itself.
        PeerNodeDetails gossip = await peer.ReceiveAsync<PeerNodeDetails>(d => d.Nodes.Count > 0 && d.Nodes.All(n => n.Id != network.Id));
        NodeDetails entry = Assert.Single(gossip.Nodes);
        Assert.Equal(far, entry.Id);
        Assert.Equal(1UL, entry.Version);
        Assert.Equal(new NodeNeighbour(peerId, 7), Assert.Single(entry.Neighbours));
    }

    [Fact]
    public async Task Group_queries_start_only_once_the_node_uses_groups()
    {
        var transport = new ScriptedTransport();
        await using var network = new Network(new NetworkOptions
        {
            Name = "groups",
            Transports = [transport],
            Session = new() { CloseTimeout = TimeSpan.FromMilliseconds(100) },
        });
        await network.JoinAsync();
        NodeId peerId = NodeId.NewId();
        ScriptedPeer peer = await transport.ConnectAsync(peerId);
        await TaskTimeoutExtensions.WaitUntilAsync(() => network.TryGetNode(peerId, out _));

        // A probe from the peer is answered by an ACK; no group query came before it.
        await peer.SendAsync(new PeerData(network.Id, "probe", new byte[] { 0xf6 }, [new PeerPathEntry(peerId, 77)]));
        PeerMessage first;
        do
        {
            first = await peer.ReceiveAsync();
        }
        while (first is not (PeerData or PeerDataResult));
        Assert.IsType<PeerDataResult>(first);

        _ = new NamedGroup(network, "chat");

        PeerData query = await peer.ReceiveAsync<PeerData>();
        Assert.Equal("at:group:query", query.DataType);
        Assert.Equal(new CborMap { ["version"] = 0 }, CborValue.Decode(query.Data.Span));
    }

    [Fact]
    public async Task Pre_encoded_payloads_are_sent_as_given_and_malformed_ones_refused()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(2);
        await mesh.LinkAsync(0, 1);
        await mesh.WaitForVisibilityAsync();
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        mesh[1].MessageReceived += (_, e) => received.TrySetResult(e.Message);
        Assert.True(mesh[0].TryGetNode(mesh[1].Id, out Node? target));

        // An indefinite-length map holding a half float: valid CBOR that our encoder never produces itself.
        byte[] unusual = Convert.FromHexString("bf6168f93e00ff");
        await target.SendEncodedAsync("raw", unusual);

        Message message = await received.Task.DefaultTimeout();
        Assert.Equal(unusual, message.RawData.ToArray());
        Assert.Equal(1.5, message.Data.AsMap()["h"].AsDouble());
        await Assert.ThrowsAsync<ArgumentException>(() => target.SendEncodedAsync("raw", new byte[] { 0x01, 0x02 }).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => target.SendEncodedAsync("raw", ReadOnlyMemory<byte>.Empty).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => target.SendEncodedAsync("raw", new byte[] { 0x62, 0x61 }).AsTask());
    }

    [Fact]
    public async Task Sends_use_routes_recomputed_from_the_latest_topology_not_the_last_broadcast_tick()
    {
        var transport = new ScriptedTransport();
        await using var network = new Network(new NetworkOptions
        {
            Name = "fresh-routes",
            Transports = [transport],

            // No periodic recomputation during the test: only the on-demand one can find the route.
            TopologyBroadcastDelay = TimeSpan.FromSeconds(30),
            Session = new() { CloseTimeout = TimeSpan.FromMilliseconds(100) },
        });
        await network.JoinAsync();
        NodeId peerId = NodeId.NewId();
        NodeId far = NodeId.NewId();
        ScriptedPeer peer = await transport.ConnectAsync(peerId);

        await peer.SendAsync(new PeerNodeDetails(
        [
            new NodeDetails(peerId, 1, [new NodeNeighbour(network.Id, 0), new NodeNeighbour(far, 1)]),
            new NodeDetails(far, 1, [new NodeNeighbour(peerId, 1)]),
        ]));
        await peer.SendAsync(new PeerNodeRequest([network.Id]));
        await peer.ReceiveAsync<PeerNodeDetails>(); // the details above have been processed by now

        Task send = network.SendAsync(far, "fresh", CborValue.Null).AsTask();
        PeerData data = await peer.ReceiveAsync<PeerData>(d => d.DataType == "fresh");
        await peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, data.Path[0].Id));
        await send.DefaultTimeout();
    }
}
