using Ataraxia.Internal;
using Ataraxia.Protocol;

namespace Ataraxia.Tests.Mesh;

/// <summary>The topology model on its own (WIRE.md §9): route computation, details, summaries, reachableVia.</summary>
public sealed class TopologyTests : IAsyncDisposable
{
    private readonly List<PeerSession> _sessions = [];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Routes_match_a_plain_Dijkstra_that_walks_back_to_the_first_direct_peer(int seed)
    {
        // Small latencies make many ties, which the lower predecessor id decides.
        var random = new Random(seed);
        int count = random.Next(20, 80);
        NodeId[] ids = [.. Enumerable.Range(0, count).Select(_ => NodeId.NewId())];
        var edges = new Dictionary<int, List<(int To, ulong Latency)>>();
        for (int i = 0; i < count; i++)
        {
            edges[i] = [];
        }

        for (int i = 0; i < count * 2; i++)
        {
            int a = random.Next(1, count);
            int b = random.Next(1, count);
            if (a != b)
            {
                edges[a].Add((b, (ulong)random.Next(0, 4)));
                edges[b].Add((a, (ulong)random.Next(0, 4)));
            }
        }

        // Self (index 0) has three direct peers, one over two connections; a few remote nodes point back at self.
        var topology = new Topology(ids[0]);
        int[] direct = [1, 2, 3];
        var connections = new List<PeerConnection>();
        foreach (int peer in direct.Append(2))
        {
            PeerConnection connection = Connect(ids[0], ids[peer]);
            connections.Add(connection);
            topology.AddConnection(connection);
        }

        edges[5].Add((0, 1));
        var details = new PeerNodeDetails([.. Enumerable.Range(1, count - 1).Select(i =>
            new NodeDetails(ids[i], 1, [.. edges[i].Select(e => new NodeNeighbour(ids[e.To], e.Latency))]))]);
        Assert.True(topology.OnDetails(ids[1], details));

        Dictionary<NodeId, PeerConnection> routes = topology.ComputeRoutes();

        Dictionary<NodeId, PeerConnection> expected = ReferenceRoutes(ids[0], connections, details);
        Assert.Equal(expected.Count, routes.Count);
        foreach ((NodeId target, PeerConnection hop) in expected)
        {
            Assert.Same(hop, routes[target]);
        }

        // Unreachable nodes are forgotten: the summary lists exactly the reachable ones.
        Assert.Equal(expected.Keys.Order(), topology.CreateSummary().Nodes.Select(n => n.Id).Order());
    }

    [Fact]
    public void Routes_are_the_same_table_until_a_route_changes()
    {
        NodeId self = NodeId.NewId();
        NodeId a = NodeId.NewId();
        NodeId b = NodeId.NewId();
        NodeId c = NodeId.NewId();
        var topology = new Topology(self);
        topology.AddConnection(Connect(self, a));
        Assert.True(topology.OnDetails(a, Details((a, 1, [(self, 0), (b, 5)]), (b, 1, [(a, 5)]))));
        Dictionary<NodeId, PeerConnection> first = topology.ComputeRoutes();
        Assert.Equal(new[] { a, b }.Order(), first.Keys.Order());

        // A latency change that moves no route keeps the table.
        Assert.True(topology.OnDetails(a, Details((a, 1, [(self, 0), (b, 7)]))));
        Assert.Same(first, topology.ComputeRoutes());

        // A new node makes a new table; the old one is left as it was.
        Assert.True(topology.OnDetails(a, Details((b, 2, [(a, 5), (c, 1)]))));
        Dictionary<NodeId, PeerConnection> second = topology.ComputeRoutes();
        Assert.NotSame(first, second);
        Assert.Equal(new[] { a, b }.Order(), first.Keys.Order());
        Assert.Equal(new[] { a, b, c }.Order(), second.Keys.Order());

        // Losing the only connection makes everything unreachable, and forgotten.
        Assert.True(topology.RemoveConnection(topology.FirstConnection(a)!));
        Assert.Empty(topology.ComputeRoutes());
        Assert.Empty(topology.CreateSummary().Nodes);
    }

    [Fact]
    public void Details_that_repeat_what_is_known_change_nothing()
    {
        NodeId self = NodeId.NewId();
        NodeId a = NodeId.NewId();
        NodeId b = NodeId.NewId();
        NodeId x = NodeId.NewId();
        var topology = new Topology(self);
        topology.AddConnection(Connect(self, a));
        topology.AddConnection(Connect(self, b));
        topology.BroadcastNeeded = false;

        Assert.True(topology.OnDetails(a, Details((x, 1, [(a, 3)]))));
        Assert.True(topology.BroadcastNeeded);
        topology.BroadcastNeeded = false;

        // The same news again, from the same peer: nothing changed, no broadcast.
        Assert.False(topology.OnDetails(a, Details((x, 1, [(a, 3)]))));
        Assert.False(topology.BroadcastNeeded);

        // From another peer: the node is now also reachable via b (no broadcast: the version did not rise).
        Assert.True(topology.OnDetails(b, Details((x, 1, [(a, 3)]))));
        Assert.False(topology.OnDetails(b, Details((x, 1, [(a, 3)]))));
        Assert.False(topology.BroadcastNeeded);

        // A new latency replaces the edges even at the same version (§9.3).
        Assert.True(topology.OnDetails(a, Details((x, 1, [(a, 4)]))));
        Assert.Equal(new[] { new NodeNeighbour(a, 4) }, topology.OnRequest(new PeerNodeRequest([x])).Nodes.Single().Neighbours);
        Assert.False(topology.BroadcastNeeded);

        // An older version with the same edges changes nothing; a newer one does and calls for a broadcast.
        Assert.False(topology.OnDetails(a, Details((x, 0, [(a, 4)]))));
        Assert.True(topology.OnDetails(a, Details((x, 2, [(a, 4)]))));
        Assert.True(topology.BroadcastNeeded);

        // Details about self are ignored.
        Assert.False(topology.OnDetails(a, Details((self, 9, [(a, 1)]))));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(9)]
    [InlineData(20)]
    public void A_node_stays_known_until_the_last_peer_it_was_reachable_via_drops_it(int peers)
    {
        // Up to eight peers are kept in a small array, more in a hash set: both behave as one set.
        NodeId self = NodeId.NewId();
        NodeId x = NodeId.NewId();
        NodeId[] direct = [.. Enumerable.Range(0, peers).Select(_ => NodeId.NewId())];
        var topology = new Topology(self);
        foreach (NodeId peer in direct)
        {
            topology.AddConnection(Connect(self, peer));
        }

        foreach (NodeId peer in direct)
        {
            Assert.True(topology.OnDetails(peer, Details((x, 1, [(peer, 1)]))));
            Assert.False(topology.OnDetails(peer, Details((x, 1, [(peer, 1)]))));
        }

        var without = new PeerNodeSummary(1, []);
        for (int i = 0; i < peers - 1; i++)
        {
            topology.BroadcastNeeded = false;
            topology.OnSummary(direct[i], without);
            Assert.True(topology.BroadcastNeeded);
            Assert.Contains(new NodeVersion(x, 1), topology.CreateSummary().Nodes);

            // Dropped once is dropped: the same summary again drops nothing.
            topology.BroadcastNeeded = false;
            topology.OnSummary(direct[i], without);
            Assert.False(topology.BroadcastNeeded);
        }

        // A peer that lists the node keeps it.
        topology.OnSummary(direct[^1], new PeerNodeSummary(1, [new NodeVersion(x, 1)]));
        Assert.Contains(new NodeVersion(x, 1), topology.CreateSummary().Nodes);

        // The last one drops it: version and edges are reset.
        topology.OnSummary(direct[^1], without);
        Assert.DoesNotContain(topology.CreateSummary().Nodes, n => n.Id == x);
        Assert.Equal(new NodeDetails(x, 0, []), topology.OnRequest(new PeerNodeRequest([x])).Nodes.Single(), DetailsComparer.Instance);

        // Told again, by one peer, then that peer's connection closes: the same reset.
        Assert.True(topology.OnDetails(direct[0], Details((x, 1, [(direct[0], 1)]))));
        Assert.Contains(new NodeVersion(x, 1), topology.CreateSummary().Nodes);
        Assert.True(topology.RemoveConnection(topology.FirstConnection(direct[0])!));
        Assert.DoesNotContain(topology.CreateSummary().Nodes, n => n.Id == x);
        Assert.Equal(new NodeDetails(x, 0, []), topology.OnRequest(new PeerNodeRequest([x])).Nodes.Single(), DetailsComparer.Instance);
    }

    [Fact]
    public void A_summary_requests_the_sender_and_every_newer_node_once()
    {
        NodeId self = NodeId.NewId();
        NodeId a = NodeId.NewId();
        NodeId known = NodeId.NewId();
        NodeId newer = NodeId.NewId();
        NodeId unknown = NodeId.NewId();
        var topology = new Topology(self);
        topology.AddConnection(Connect(self, a));
        topology.OnDetails(a, Details((known, 3, [(a, 1)]), (newer, 1, [(a, 1)])));

        List<NodeId> requests = topology.OnSummary(a, new PeerNodeSummary(2, [
            new NodeVersion(self, 7),
            new NodeVersion(known, 3),
            new NodeVersion(newer, 2),
            new NodeVersion(unknown, 1),
            new NodeVersion(a, 5),
            new NodeVersion(newer, 2),
            new NodeVersion(unknown, 4),
        ]));

        Assert.Equal(new[] { a, newer, unknown }, requests);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (PeerSession session in _sessions)
        {
            await session.DisposeAsync();
        }
    }

    private static PeerNodeDetails Details(params (NodeId Id, ulong Version, (NodeId Id, ulong Latency)[] Neighbours)[] nodes) =>
        new([.. nodes.Select(n => new NodeDetails(n.Id, n.Version, [.. n.Neighbours.Select(e => new NodeNeighbour(e.Id, e.Latency))]))]);

    // What Topology.ComputeRoutes did before it kept its state in the entries: dictionaries, then a walk back from
    // every target to the first direct peer on its path.
    private static Dictionary<NodeId, PeerConnection> ReferenceRoutes(NodeId self, List<PeerConnection> connections, PeerNodeDetails details)
    {
        var direct = new Dictionary<NodeId, PeerConnection>();
        foreach (PeerConnection connection in connections)
        {
            direct.TryAdd(connection.RemoteId, connection);
        }

        var edges = details.Nodes.ToDictionary(n => n.Id, n => n.Neighbours.Select(e => (e.Id, e.Latency)).ToList());
        edges[self] = [.. connections.Select(c => (c.RemoteId, (ulong)c.Latency))];
        var distance = new Dictionary<NodeId, ulong> { [self] = 0 };
        var previous = new Dictionary<NodeId, NodeId>();
        var done = new HashSet<NodeId>();
        var queue = new PriorityQueue<NodeId, (ulong Cost, NodeId Id)>();
        queue.Enqueue(self, (0, self));
        while (queue.TryDequeue(out NodeId current, out (ulong Cost, NodeId Id) priority))
        {
            if (!done.Add(current))
            {
                continue;
            }

            foreach ((NodeId neighbour, ulong latency) in edges.GetValueOrDefault(current) ?? [])
            {
                if (neighbour == self || done.Contains(neighbour))
                {
                    continue;
                }

                ulong cost = priority.Cost + latency;
                if (!distance.TryGetValue(neighbour, out ulong known) || cost < known
                    || (cost == known && current.CompareTo(previous[neighbour]) < 0))
                {
                    distance[neighbour] = cost;
                    previous[neighbour] = current;
                    queue.Enqueue(neighbour, (cost, neighbour));
                }
            }
        }

        var routes = new Dictionary<NodeId, PeerConnection>();
        foreach (NodeId target in done.Where(t => t != self))
        {
            NodeId hop = target;
            while (!direct.ContainsKey(hop))
            {
                hop = previous[hop];
            }

            routes[target] = direct[hop];
        }

        return routes;
    }

    private sealed class DetailsComparer : IEqualityComparer<NodeDetails>
    {
        public static readonly DetailsComparer Instance = new();

        public bool Equals(NodeDetails? x, NodeDetails? y) =>
            x is not null && y is not null && x.Id == y.Id && x.Version == y.Version && x.Neighbours.SequenceEqual(y.Neighbours);

        public int GetHashCode(NodeDetails obj) => obj.Id.GetHashCode();
    }

    private PeerConnection Connect(NodeId self, NodeId peer)
    {
        var session = new PeerSession(DuplexPipe.CreatePair().First, PeerRole.Client, self);
        _sessions.Add(session);
        return new PeerConnection(session, peer, "test");
    }
}
