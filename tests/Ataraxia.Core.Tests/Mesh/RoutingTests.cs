using System.Collections.Concurrent;
using Ataraxia.Cbor;
using Ataraxia.Testing;
using Ataraxia.Transport;

namespace Ataraxia.Tests.Mesh;

public sealed class RoutingTests
{
    [Fact]
    public async Task A_link_made_right_after_a_cut_connects_again_every_time()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(2);
        for (int round = 0; round < 25; round++)
        {
            await mesh.LinkAsync(0, 1);
            await mesh.WaitForVisibilityAsync(timeout: TimeSpan.FromSeconds(10));
            await mesh.CutAsync(0, 1);
        }
    }

    [Fact]
    public async Task Routes_move_to_the_remaining_path_when_a_link_is_cut()
    {
        // A ring of six: cutting one link leaves the long way round.
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(6);
        await mesh.LinkAllAsync(Enumerable.Range(0, 6).Select(i => (i, (i + 1) % 6)));
        await mesh.WaitForVisibilityAsync();
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 0, 1);

        await mesh.CutAsync(0, 1);

        // Every node settles on a loop-free route the long way round, in both directions.
        await TaskTimeoutExtensions.WaitUntilAsync(() =>
            RouteOf(mesh, 0, 1).SequenceEqual([0, 5, 4, 3, 2, 1]) && RouteOf(mesh, 1, 0).SequenceEqual([1, 2, 3, 4, 5, 0]));

        Assert.True(mesh.Sees(0, 1));
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 0, 1);
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 1, 0);
        await mesh.WaitForVisibilityAsync();
    }

    [Fact]
    public async Task A_partition_makes_exactly_the_other_side_unavailable_and_healing_restores_it()
    {
        // Two triangles joined by two bridges: {0,1,2} and {3,4,5}.
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(6);
        await mesh.LinkAllAsync([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3), (0, 5)]);
        await mesh.WaitForVisibilityAsync();
        int[] left = [0, 1, 2];
        int[] right = [3, 4, 5];

        await mesh.PartitionAsync(left);

        await TaskTimeoutExtensions.WaitUntilAsync(() => left.All(a => right.All(b => !mesh.Sees(a, b) && !mesh.Sees(b, a))));
        await mesh.WaitForVisibilityAsync(left);
        await mesh.WaitForVisibilityAsync(right);
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 1, 2);
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 4, 3);
        var error = await Assert.ThrowsAsync<MessageDeliveryException>(() => mesh[1].SendAsync(mesh[4].Id, "x", CborValue.Null).AsTask());
        Assert.Equal(MessageDeliveryFailure.NoRoute, error.Failure);

        await mesh.HealAsync();

        await mesh.WaitForVisibilityAsync();
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 1, 4);
    }

    [Fact]
    public async Task The_route_takes_the_faster_path()
    {
        // 0 reaches 3 through 1 or 2; the 1-3 link is slow.
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(4);
        // Well above the jitter of latency samples on a loaded machine.
        mesh.Switchboard.SetLatency(mesh.Transports[1], mesh.Transports[3], TimeSpan.FromMilliseconds(250));
        await mesh.LinkAllAsync([(0, 1), (0, 2), (1, 3), (2, 3)]);
        await mesh.WaitForVisibilityAsync();

        // Both ends avoid the slow link; a direct peer is still reached over its own link, however slow.
        await TaskTimeoutExtensions.WaitUntilAsync(() =>
            RouteOf(mesh, 0, 3).SequenceEqual([0, 2, 3]) && RouteOf(mesh, 3, 0).SequenceEqual([3, 2, 0])
            && RouteOf(mesh, 3, 1).SequenceEqual([3, 1]) && RouteOf(mesh, 1, 3).SequenceEqual([1, 3]));
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 0, 3);
    }

    [Fact]
    public async Task An_endpoint_node_never_forwards()
    {
        // 0 - E - 2, with E an endpoint: E reaches both, 0 and 2 never see each other.
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(3, (i, o) => i == 1 ? o with { Endpoint = true } : o);
        await mesh.LinkAllAsync([(0, 1), (1, 2)]);
        await mesh.WaitForVisibilityAsync([0, 1]);
        await mesh.WaitForVisibilityAsync([1, 2]);
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 1, 0);
        await TopologyShapeTests.AssertDeliveredAsync(mesh, 1, 2);

        // Give the topology time to spread anything it would spread; 0 and 2 must still not see each other.
        await TaskTimeoutExtensions.ExpectNothingAsync();
        Assert.False(mesh.Sees(0, 2));
        Assert.False(mesh.Sees(2, 0));
        var error = await Assert.ThrowsAsync<MessageDeliveryException>(() => mesh[0].SendAsync(mesh[2].Id, "x", CborValue.Null).AsTask());
        Assert.Equal(MessageDeliveryFailure.NoRoute, error.Failure);
    }

    [Fact]
    public async Task A_spare_connection_keeps_the_node_available_when_the_used_one_drops()
    {
        var first = new InMemorySwitchboard();
        var second = new InMemorySwitchboard();
        InMemoryTransport a1 = first.CreateTransport("a1");
        InMemoryTransport a2 = second.CreateTransport("a2");
        InMemoryTransport b1 = first.CreateTransport("b1");
        InMemoryTransport b2 = second.CreateTransport("b2");
        await using var a = new Network(new NetworkOptions { Name = "spares", Transports = [a1, a2] });
        await using var b = new Network(new NetworkOptions { Name = "spares", Transports = [b1, b2] });
        var events = new ConcurrentQueue<string>();
        a.NodeAvailable += (_, e) => events.Enqueue($"available {e.Node.Id}");
        a.NodeUnavailable += (_, e) => events.Enqueue($"unavailable {e.Node.Id}");
        await a.JoinAsync();
        await b.JoinAsync();

        await first.LinkAsync(a1, b1).DefaultTimeout();
        await second.LinkAsync(a2, b2).DefaultTimeout();
        await TaskTimeoutExtensions.WaitUntilAsync(() => a.TryGetNode(b.Id, out _));
        Assert.True(a.TryGetNode(b.Id, out Node? before));

        await first.CutAsync(a1, b1).DefaultTimeout();
        await second.CutAsync(a2, b2).DefaultTimeout();
        await TaskTimeoutExtensions.WaitUntilAsync(() => events.Count == 2);
        Assert.False(a.TryGetNode(b.Id, out _));
        Assert.Equal([$"available {b.Id}", $"unavailable {b.Id}"], events.ToArray());

        await first.LinkAsync(a1, b1).DefaultTimeout();
        await second.LinkAsync(a2, b2).DefaultTimeout();
        await TaskTimeoutExtensions.WaitUntilAsync(() => a.TryGetNode(b.Id, out _) && events.Count == 3);
        await first.CutAsync(a1, b1).DefaultTimeout();

        // One link is left: the node stays available and messages still go.
        await a.SendAsync(b.Id, "still-there", CborValue.Null).DefaultTimeout();
        Assert.True(a.TryGetNode(b.Id, out Node? after));
        Assert.True(after.IsAvailable);
        Assert.False(before.IsAvailable);
        Assert.Equal([$"available {b.Id}", $"unavailable {b.Id}", $"available {b.Id}"], events.ToArray());
        await first.DisposeAsync();
        await second.DisposeAsync();
    }

    [Fact]
    public async Task Availability_events_alternate_per_node_and_never_name_the_local_node()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(4);
        var events = new ConcurrentQueue<(NodeId Id, bool Available)>();
        mesh[0].NodeAvailable += (_, e) => events.Enqueue((e.Node.Id, true));
        mesh[0].NodeUnavailable += (_, e) => events.Enqueue((e.Node.Id, false));

        await mesh.LinkAllAsync([(0, 1), (1, 2), (2, 3)]);
        await mesh.WaitForVisibilityAsync();
        await mesh.CutAsync(1, 2);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !mesh.Sees(0, 3));
        await mesh.LinkAsync(1, 2);
        await mesh.WaitForVisibilityAsync();
        await mesh.CutAsync(0, 1);

        // Events are raised on the network's event loop: wait until the last ones arrived.
        await TaskTimeoutExtensions.WaitUntilAsync(() => mesh[0].Nodes.Count == 0
            && events.GroupBy(e => e.Id).Count() == 3 && events.GroupBy(e => e.Id).All(g => !g.Last().Available));

        (NodeId Id, bool Available)[] all = [.. events];
        Assert.DoesNotContain(all, e => e.Id == mesh[0].Id);
        foreach (IGrouping<NodeId, (NodeId Id, bool Available)> perNode in all.GroupBy(e => e.Id))
        {
            bool expected = true;
            foreach ((NodeId _, bool available) in perNode)
            {
                Assert.Equal(expected, available);
                expected = !expected;
            }

            Assert.True(expected, "every node ends unavailable");
        }
    }

    [Fact]
    public async Task Send_fails_clearly_on_no_route_and_on_timeout()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(3, (_, o) => o with { AckTimeout = TimeSpan.FromMilliseconds(300) });
        await mesh.LinkAllAsync([(0, 1)]);
        await mesh.WaitForVisibilityAsync([0, 1]);

        var noRoute = await Assert.ThrowsAsync<MessageDeliveryException>(() => mesh[0].SendAsync(mesh[2].Id, "x", CborValue.Null).AsTask());
        Assert.Equal(MessageDeliveryFailure.NoRoute, noRoute.Failure);
        Assert.Equal(mesh[2].Id, noRoute.Target);

        mesh.Switchboard.SetDropRate(mesh.Transports[0], mesh.Transports[1], 1.0);
        var timeout = await Assert.ThrowsAsync<MessageDeliveryException>(() => mesh[0].SendAsync(mesh[1].Id, "x", CborValue.Null).AsTask().DefaultTimeout());
        Assert.Equal(MessageDeliveryFailure.Timeout, timeout.Failure);
    }

    [Fact]
    public async Task Messages_arrive_both_as_events_and_as_a_stream()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(2);
        await mesh.LinkAsync(0, 1);
        await mesh.WaitForVisibilityAsync();
        var viaEvent = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        mesh[1].MessageReceived += (_, e) => viaEvent.TrySetResult(e.Message);

        await mesh[0].SendAsync(mesh[1].Id, "hello", new CborMap { ["text"] = "hi", ["list"] = new CborArray([1, 2.5, "x", CborValue.Null]) });

        Message fromEvent = await viaEvent.Task.DefaultTimeout();
        await using IAsyncEnumerator<Message> stream = mesh[1].ReadMessagesAsync().GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync().AsTask().DefaultTimeout());
        Assert.Same(fromEvent, stream.Current);
        Assert.Equal("hello", fromEvent.Type);
        Assert.Equal("hi", fromEvent.Data.AsMap()["text"].AsString());
        Assert.Equal(new CborArray([1, 2.5, "x", CborValue.Null]), fromEvent.Data.AsMap()["list"]);
    }

    /// <summary>The chain of next hops from one node to another, as the nodes currently route (empty on a loop or gap).</summary>
    [Fact]
    public async Task GetRoute_gives_the_next_hop_the_transport_and_the_whole_path()
    {
        // A line 0-1-2-3, then a shortcut 0-3.
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(4);
        await mesh.LinkAllAsync([(0, 1), (1, 2), (2, 3)]);
        await mesh.WaitForVisibilityAsync();

        NodeRoute? route = mesh[0].GetRoute(mesh[3].Id);
        Assert.NotNull(route);
        Assert.Equal([mesh[1].Id, mesh[2].Id, mesh[3].Id], route.Path);
        Assert.Equal(mesh[1].Id, route.NextHop);
        Assert.Equal(mesh[3].Id, route.Target);
        Assert.False(route.IsDirect);
        Assert.Equal(mesh.Transports[0].Name, route.Transport);
        Assert.True(mesh[0].GetRoute(mesh[1].Id)!.IsDirect);
        Assert.Null(mesh[0].GetRoute(mesh[0].Id));

        await mesh.LinkAsync(0, 3);
        await TaskTimeoutExtensions.WaitUntilAsync(() => mesh[0].GetRoute(mesh[3].Id)?.IsDirect == true);
        Assert.Equal([mesh[3].Id], mesh[0].GetRoute(mesh[3].Id)!.Path);

        await mesh.CutAsync(0, 3);
        await mesh.CutAsync(2, 3);
        await TaskTimeoutExtensions.WaitUntilAsync(() => mesh[0].GetRoute(mesh[3].Id) is null);
    }

    internal static List<int> RouteOf(Testing.Mesh mesh, int from, int to)
    {
        var route = new List<int> { from };
        int current = from;
        while (current != to)
        {
            NodeId? next = mesh[current].GetNextHop(mesh[to].Id);
            if (next is null || route.Count > mesh.Count)
            {
                return [];
            }

            current = mesh.IndexOf(next.Value);
            route.Add(current);
        }

        return route;
    }
}
