using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Mesh;

/// <summary>
/// DATA handling of a real network, driven by a scripted neighbour (WIRE.md §7): per-hop acknowledgements,
/// rejects, loop detection, the path limit and sources that are not reachable.
/// </summary>
public sealed class DataForwardingTests : IAsyncLifetime
{
    private readonly ScriptedTransport _transport = new();
    private Network _network = null!;
    private ScriptedPeer _peer = null!;
    private readonly NodeId _peerId = NodeId.NewId();
    private readonly NodeId _far = NodeId.NewId();

    public async Task InitializeAsync()
    {
        _network = new Network(new NetworkOptions
        {
            Name = "scripted",
            Transports = [_transport],
            MaxPathLength = 4,
            AckTimeout = TimeSpan.FromSeconds(2),

            // The scripted peer never closes its side; do not wait long for it when leaving.
            Session = new() { CloseTimeout = TimeSpan.FromMilliseconds(100) },
        });
        await _network.JoinAsync();
        _peer = await _transport.ConnectAsync(_peerId);

        // The scripted peer claims a neighbour _far; the network asks for details and learns a route through it.
        await _peer.SendAsync(new PeerNodeSummary(1, [new NodeVersion(_far, 1)]));
        PeerNodeRequest request = await _peer.ReceiveAsync<PeerNodeRequest>();
        Assert.True(request.Nodes.ToHashSet().SetEquals([_peerId, _far]));
        await _peer.SendAsync(new PeerNodeDetails(
        [
            new NodeDetails(_peerId, 1, [new NodeNeighbour(_network.Id, 0), new NodeNeighbour(_far, 1)]),
            new NodeDetails(_far, 1, [new NodeNeighbour(_peerId, 1)]),
        ]));
        await TaskTimeoutExtensions.WaitUntilAsync(() => _network.TryGetNode(_far, out _));
    }

    public async Task DisposeAsync() => await _network.DisposeAsync();

    [Fact]
    public async Task Send_completes_on_the_next_hops_ack_and_carries_the_path()
    {
        Task send = _network.SendAsync(_far, "hello", new CborMap { ["n"] = 1 }).AsTask();

        // Group queries (at:group:query) go to new nodes too; this test looks at its own message only.
        PeerData data = await _peer.ReceiveAsync<PeerData>(d => d.DataType == "hello");
        Assert.Equal(_far, data.Target);
        Assert.Equal("hello", data.DataType);
        PeerPathEntry origin = Assert.Single(data.Path);
        Assert.Equal(_network.Id, origin.Node);
        Assert.False(send.IsCompleted);

        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, origin.Id));
        await send.DefaultTimeout();
    }

    [Fact]
    public async Task A_reject_from_the_next_hop_fails_the_send()
    {
        Task send = _network.SendAsync(_far, "hello", CborValue.Null).AsTask();
        PeerData data = await _peer.ReceiveAsync<PeerData>(d => d.DataType == "hello");

        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataReject, data.Path[0].Id));

        var error = await Assert.ThrowsAsync<MessageDeliveryException>(() => send.DefaultTimeout());
        Assert.Equal(MessageDeliveryFailure.Rejected, error.Failure);
        Assert.Equal(_far, error.Target);
    }

    [Fact]
    public async Task A_send_without_an_answer_times_out_and_a_late_ack_changes_nothing()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Task send = _network.SendAsync(_far, "hello", CborValue.Null).AsTask();
        PeerData data = await _peer.ReceiveAsync<PeerData>(d => d.DataType == "hello");

        var error = await Assert.ThrowsAsync<MessageDeliveryException>(() => send.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(MessageDeliveryFailure.Timeout, error.Failure);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(8));

        // The ack arrives after the timeout, while a new send is pending: it must not complete the new one.
        Task next = _network.SendAsync(_far, "hello", CborValue.Null).AsTask();
        PeerData nextData = await _peer.ReceiveAsync<PeerData>(d => d.DataType == "hello");
        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, data.Path[0].Id));
        await TaskTimeoutExtensions.ExpectNothingAsync();
        Assert.False(next.IsCompleted);
        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, nextData.Path[0].Id));
        await next.DefaultTimeout();
    }

    [Fact]
    public async Task Cancelling_a_send_stops_the_wait_and_frees_its_slot()
    {
        using var cancel = new CancellationTokenSource();
        Task send = _network.SendAsync(_far, "hello", CborValue.Null, cancel.Token).AsTask();
        PeerData data = await _peer.ReceiveAsync<PeerData>(d => d.DataType == "hello");
        Assert.False(send.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.DefaultTimeout());

        // The ack for the cancelled send is ignored; later sends still work.
        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, data.Path[0].Id));
        Task next = _network.SendAsync(_far, "again", CborValue.Null).AsTask();
        PeerData nextData = await _peer.ReceiveAsync<PeerData>(d => d.DataType == "again");
        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, nextData.Path[0].Id));
        await next.DefaultTimeout();
    }

    [Fact]
    public async Task An_already_cancelled_token_fails_the_send_before_anything_is_sent()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _network.SendAsync(_far, "never", CborValue.Null, cancel.Token).AsTask());

        // Messages to one hop keep their order: the first DATA the peer sees is the one sent after.
        Task after = _network.SendAsync(_far, "after", CborValue.Null).AsTask();
        PeerData first = await _peer.ReceiveAsync<PeerData>(d => !d.DataType.StartsWith("at:", StringComparison.Ordinal));
        Assert.Equal("after", first.DataType);
        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, first.Path[0].Id));
        await after.DefaultTimeout();
    }

    [Fact]
    public async Task Many_sends_in_flight_complete_each_with_its_own_answer()
    {
        Task[] sends = [.. Enumerable.Range(0, 200).Select(i => _network.SendAsync(_far, "bulk", new CborMap { ["i"] = i }).AsTask())];
        var seen = new List<PeerData>();
        while (seen.Count < sends.Length)
        {
            seen.Add(await _peer.ReceiveAsync<PeerData>(d => d.DataType == "bulk"));
        }

        // Every other send is rejected: each caller must see the answer to its own message.
        foreach (PeerData data in seen)
        {
            long index = CborValue.Decode(data.Data.Span).AsMap()["i"].AsInt64();
            await _peer.SendAsync(new PeerDataResult(index % 2 == 0 ? PeerMessageType.DataAck : PeerMessageType.DataReject, data.Path[0].Id));
        }

        for (int i = 0; i < sends.Length; i++)
        {
            if (i % 2 == 0)
            {
                await sends[i].DefaultTimeout();
            }
            else
            {
                var error = await Assert.ThrowsAsync<MessageDeliveryException>(() => sends[i].DefaultTimeout());
                Assert.Equal(MessageDeliveryFailure.Rejected, error.Failure);
            }
        }
    }

    [Fact]
    public async Task Data_for_this_node_is_acked_with_the_previous_hops_id_and_delivered()
    {
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        _network.MessageReceived += (_, e) => received.TrySetResult(e.Message);

        byte[] payload = new CborMap { ["text"] = "from afar" }.Encode();
        await _peer.SendAsync(new PeerData(_network.Id, "greeting", payload, [new PeerPathEntry(_far, 3), new PeerPathEntry(_peerId, 41)]));

        PeerDataResult ack = await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == 41);
        Assert.Equal((PeerMessageType.DataAck, 41UL), (ack.Type, ack.Id));
        Message message = await received.Task.DefaultTimeout();
        Assert.Equal(_far, message.Source.Id);
        Assert.Equal("from afar", message.Data.AsMap()["text"].AsString());
    }

    [Fact]
    public async Task Data_from_a_source_that_is_not_reachable_is_acked_but_dropped()
    {
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        _network.MessageReceived += (_, e) => received.TrySetResult(e.Message);
        NodeId stranger = NodeId.NewId();

        await _peer.SendAsync(new PeerData(_network.Id, "x", new byte[] { 0xf6 }, [new PeerPathEntry(stranger, 0), new PeerPathEntry(_peerId, 1)]));
        await _peer.SendAsync(new PeerData(_network.Id, "y", new byte[] { 0xf6 }, [new PeerPathEntry(_peerId, 2)]));

        Assert.Equal(PeerMessageType.DataAck, (await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == 1)).Type);
        Assert.Equal(PeerMessageType.DataAck, (await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == 2)).Type);
        Assert.Equal("y", (await received.Task.DefaultTimeout()).Type);
    }

    [Fact]
    public async Task Data_from_a_sender_the_topology_names_a_moment_later_is_held_and_delivered()
    {
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        _network.MessageReceived += (_, e) => received.TrySetResult(e.Message);
        NodeId newcomer = NodeId.NewId();

        // A node that just joined behind the peer sends before the peer's topology news arrives.
        await _peer.SendAsync(new PeerData(_network.Id, "early", new byte[] { 0xf5 }, [new PeerPathEntry(newcomer, 0), new PeerPathEntry(_peerId, 1)]));
        Assert.Equal(PeerMessageType.DataAck, (await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == 1)).Type);
        Assert.False(received.Task.IsCompleted);

        await _peer.SendAsync(new PeerNodeSummary(2, [new NodeVersion(_far, 1), new NodeVersion(newcomer, 1)]));
        await _peer.ReceiveAsync<PeerNodeRequest>(r => r.Nodes.Contains(newcomer));
        await _peer.SendAsync(new PeerNodeDetails(
        [
            new NodeDetails(_peerId, 2, [new NodeNeighbour(_network.Id, 0), new NodeNeighbour(_far, 1), new NodeNeighbour(newcomer, 1)]),
            new NodeDetails(newcomer, 1, [new NodeNeighbour(_peerId, 1)]),
        ]));

        Message message = await received.Task.DefaultTimeout();
        Assert.Equal(("early", newcomer), (message.Type, message.Source.Id));
    }

    [Fact]
    public async Task Data_whose_payload_is_not_one_cbor_item_is_acked_but_dropped()
    {
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        _network.MessageReceived += (_, e) => received.TrySetResult(e.Message);

        await _peer.SendAsync(new PeerData(_network.Id, "bad", new byte[] { 0x01, 0x02 }, [new PeerPathEntry(_peerId, 1)]));
        await _peer.SendAsync(new PeerData(_network.Id, "empty", ReadOnlyMemory<byte>.Empty, [new PeerPathEntry(_peerId, 2)]));
        await _peer.SendAsync(new PeerData(_network.Id, "good", new byte[] { 0xf5 }, [new PeerPathEntry(_peerId, 3)]));

        for (ulong id = 1; id <= 3; id++)
        {
            Assert.Equal(PeerMessageType.DataAck, (await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == id)).Type);
        }

        Assert.Equal("good", (await received.Task.DefaultTimeout()).Type);
    }

    [Fact]
    public async Task Data_that_would_loop_back_is_rejected()
    {
        // The only route to _far is back through the peer that sent it.
        await _peer.SendAsync(new PeerData(_far, "x", new byte[] { 0xf6 }, [new PeerPathEntry(_peerId, 9)]));

        PeerDataResult result = await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == 9);
        Assert.Equal(PeerMessageType.DataReject, result.Type);
    }

    [Fact]
    public async Task Data_for_an_unknown_node_and_data_over_the_path_limit_are_rejected()
    {
        await _peer.SendAsync(new PeerData(NodeId.NewId(), "x", new byte[] { 0xf6 }, [new PeerPathEntry(_peerId, 5)]));
        PeerDataResult unknown = await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == 5);
        Assert.Equal(PeerMessageType.DataReject, unknown.Type);

        PeerPathEntry[] longPath = [.. Enumerable.Range(0, 4).Select(i => new PeerPathEntry(NodeId.NewId(), (ulong)i)), new PeerPathEntry(_peerId, 6)];
        await _peer.SendAsync(new PeerData(_far, "x", new byte[] { 0xf6 }, longPath));
        PeerDataResult tooLong = await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == 6);
        Assert.Equal(PeerMessageType.DataReject, tooLong.Type);
    }

    [Fact]
    public async Task The_network_answers_requests_for_its_own_details_and_announces_what_it_learnt()
    {
        await _peer.SendAsync(new PeerNodeRequest([_network.Id, NodeId.NewId()]));

        // The summary may come before or after the details reply.
        PeerNodeDetails? details = null;
        PeerNodeSummary? summary = null;
        while (details is null || summary is null)
        {
            PeerMessage message = await _peer.ReceiveAsync();
            details ??= message as PeerNodeDetails;
            if (message is PeerNodeSummary s && s.Nodes.Any(n => n.Id == _far))
            {
                summary = s;
            }
        }

        NodeDetails own = Assert.Single(details.Nodes);
        Assert.Equal(_network.Id, own.Id);
        Assert.True(own.Version >= 1);
        Assert.Equal(_peerId, Assert.Single(own.Neighbours).Id);
        Assert.Contains(summary.Nodes, n => n.Id == _peerId && n.Version == 1);
        Assert.Contains(summary.Nodes, n => n.Id == _far && n.Version == 1);
        Assert.True(summary.OwnVersion >= 1);
    }

    [Fact]
    public async Task A_send_without_route_leaves_other_pending_sends_alone()
    {
        // The first message of this network gets id 0; a failing send must not disturb its acknowledgement.
        Task first = _network.SendAsync(_far, "hello", CborValue.Null).AsTask();
        PeerData data = await _peer.ReceiveAsync<PeerData>(d => d.DataType == "hello");

        await Assert.ThrowsAsync<MessageDeliveryException>(() => _network.SendAsync(NodeId.NewId(), "nowhere", CborValue.Null).AsTask());
        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataAck, data.Path[0].Id));

        await first.DefaultTimeout();
    }
}
