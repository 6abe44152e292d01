using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Diagnostics;

/// <summary>
/// The failure instruments of the <c>Ataraxia</c> meter, driven by a scripted neighbour that sends what a real mesh rarely
/// does: DATA to route nowhere, in a loop or over the path limit, answers that reject, no answers at all, payloads to drop.
/// </summary>
public sealed class DataMetricsTests : IAsyncLifetime
{
    private readonly string _name = $"metrics-{Guid.NewGuid():N}";
    private readonly ScriptedTransport _transport = new();
    private readonly NodeId _peerId = NodeId.NewId();
    private readonly NodeId _far = NodeId.NewId();
    private MetricRecorder _metrics = null!;
    private Network _network = null!;
    private ScriptedPeer _peer = null!;

    public async Task InitializeAsync()
    {
        _metrics = new MetricRecorder(_name);
        _network = new Network(new NetworkOptions
        {
            Name = _name,
            Transports = [_transport],
            MaxPathLength = 4,
            // Long enough that the scripted reject always arrives first on a loaded machine; the unanswered send waits it out.
            AckTimeout = TimeSpan.FromSeconds(2),

            // Messages from unknown senders are dropped at once here, so that the drop is counted at once.
            UnknownSourceHoldTime = TimeSpan.Zero,

            // The scripted peer never closes its side; do not wait long for it when leaving.
            Session = new() { CloseTimeout = TimeSpan.FromMilliseconds(100) },
        });
        await _network.JoinAsync();
        _peer = await _transport.ConnectAsync(_peerId);

        // The scripted peer claims a neighbour _far, which the network then routes to through it.
        await _peer.SendAsync(new PeerNodeSummary(1, [new NodeVersion(_far, 1)]));
        await _peer.ReceiveAsync<PeerNodeRequest>();
        await _peer.SendAsync(new PeerNodeDetails(
        [
            new NodeDetails(_peerId, 1, [new NodeNeighbour(_network.Id, 0), new NodeNeighbour(_far, 1)]),
            new NodeDetails(_far, 1, [new NodeNeighbour(_peerId, 1)]),
        ]));
        await TaskTimeoutExtensions.WaitUntilAsync(() => _network.TryGetNode(_far, out _));
    }

    public async Task DisposeAsync()
    {
        await _network.DisposeAsync();
        _metrics.Dispose();
    }

    [Fact]
    public async Task Data_this_node_cannot_route_is_counted_as_rejected_by_reason()
    {
        await _peer.SendAsync(new PeerData(NodeId.NewId(), "x", new byte[] { 0xf6 }, [new PeerPathEntry(_peerId, 1)]));
        await _peer.SendAsync(new PeerData(_far, "x", new byte[] { 0xf6 }, [new PeerPathEntry(_peerId, 2)]));
        PeerPathEntry[] longPath = [.. Enumerable.Range(0, 4).Select(i => new PeerPathEntry(NodeId.NewId(), (ulong)i)), new PeerPathEntry(_peerId, 3)];
        await _peer.SendAsync(new PeerData(_far, "x", new byte[] { 0xf6 }, longPath));

        for (ulong id = 1; id <= 3; id++)
        {
            Assert.Equal(PeerMessageType.DataReject, (await _peer.ReceiveAsync<PeerDataResult>(r => r.Id == id)).Type);
        }

        // The reject is posted first and counted right after: wait for the counts rather than race them.
        await TaskTimeoutExtensions.WaitUntilAsync(() => _metrics.Sum("ataraxia.messages.rejected") == 3);
        Assert.Equal(1, _metrics.Sum("ataraxia.messages.rejected", _name, errorType: "no_route"));
        Assert.Equal(1, _metrics.Sum("ataraxia.messages.rejected", _name, errorType: "loop"));
        Assert.Equal(1, _metrics.Sum("ataraxia.messages.rejected", _name, errorType: "path_too_long"));
        Assert.Equal(0, _metrics.Sum("ataraxia.messages.forwarded"));
    }

    [Fact]
    public async Task Sends_the_next_hop_rejects_or_never_answers_are_counted_as_failed()
    {
        Task rejected = _network.SendAsync(_far, "rejected", CborValue.Null).AsTask();
        Task unanswered = _network.SendAsync(_far, "unanswered", CborValue.Null).AsTask();
        PeerData data = await _peer.ReceiveAsync<PeerData>(d => d.DataType == "rejected");
        await _peer.SendAsync(new PeerDataResult(PeerMessageType.DataReject, data.Path[0].Id));

        Assert.Equal(MessageDeliveryFailure.Rejected, (await Assert.ThrowsAsync<MessageDeliveryException>(() => rejected.DefaultTimeout())).Failure);
        Assert.Equal(MessageDeliveryFailure.Timeout, (await Assert.ThrowsAsync<MessageDeliveryException>(() => unanswered.DefaultTimeout())).Failure);
        Assert.Equal(2, _metrics.Sum("ataraxia.messages.sent", _name, transport: "scripted"));
        Assert.Equal(2, _metrics.Sum("ataraxia.bytes.sent", _name, transport: "scripted")); // two CBOR nulls
        Assert.Equal(1, _metrics.Sum("ataraxia.messages.failed", _name, errorType: "rejected"));
        Assert.Equal(1, _metrics.Sum("ataraxia.messages.failed", _name, errorType: "timeout"));
    }

    [Fact]
    public async Task Data_that_cannot_be_delivered_is_counted_as_received_and_dropped()
    {
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        _network.MessageReceived += (_, e) => received.TrySetResult(e.Message);

        await _peer.SendAsync(new PeerData(_network.Id, "stranger", new byte[] { 0xf6 }, [new PeerPathEntry(NodeId.NewId(), 0), new PeerPathEntry(_peerId, 1)]));
        await _peer.SendAsync(new PeerData(_network.Id, "bad", new byte[] { 0x01, 0x02 }, [new PeerPathEntry(_peerId, 2)]));
        await _peer.SendAsync(new PeerData(_network.Id, "good", new byte[] { 0xf5 }, [new PeerPathEntry(_peerId, 3)]));

        // Delivered in order, so the two before were dropped by the time the last one arrives.
        Assert.Equal("good", (await received.Task.DefaultTimeout()).Type);
        Assert.Equal(3, _metrics.Sum("ataraxia.messages.received", _name, transport: "scripted"));
        Assert.Equal(4, _metrics.Sum("ataraxia.bytes.received", _name, transport: "scripted"));
        Assert.Equal(1, _metrics.Sum("ataraxia.messages.dropped", _name, errorType: "unreachable_source"));
        Assert.Equal(1, _metrics.Sum("ataraxia.messages.dropped", _name, errorType: "malformed_payload"));
    }
}
