using Ataraxia.Internal;
using Ataraxia.Protocol;
using BenchmarkDotNet.Attributes;

namespace Ataraxia.Benchmarks;

/// <summary>
/// Route computation (<see cref="Topology.ComputeRoutes"/>, Dijkstra over the reported latencies) and route lookup on a
/// random partial mesh of 100 and 1,000 nodes, seen from one of its nodes.
/// </summary>
/// <remarks>
/// <para>
/// The mesh is a ring (so that every node is reachable) plus two random extra links per node: about 6 links per node
/// on average, with random latencies of 1–50 ms. The observing node's own links are real <see cref="PeerConnection"/>s
/// over <see cref="PeerSession"/>s that are never started (they only need a remote id; their latency is 0). The rest of
/// the mesh is fed the way a peer would tell it: one NODE_SUMMARY and one NODE_DETAILS covering every other node,
/// from the first direct peer.
/// </para>
/// <para>
/// <see cref="RouteLookup"/> is the per-message lookup of the network (<c>routes.TryGetValue(target)</c> on the table
/// <see cref="Topology.ComputeRoutes"/> returned), averaged over 64 random targets.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(MicroConfig))]
public class RoutingBenchmarks
{
    private const int LookupTargets = 64;

    private Topology _topology = null!;
    private Dictionary<NodeId, PeerConnection> _routes = [];
    private NodeId[] _targets = [];

    [Params(100, 1000)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var ids = new NodeId[Nodes];
        Span<byte> bytes = stackalloc byte[NodeId.StandardLength];
        for (int i = 0; i < ids.Length; i++)
        {
            random.NextBytes(bytes);
            ids[i] = NodeId.FromRandomBytes(bytes);
        }

        // Undirected links with a latency each: a ring plus two random chords per node.
        var links = new Dictionary<(int, int), ulong>();
        void Link(int a, int b)
        {
            if (a != b)
            {
                links.TryAdd(a < b ? (a, b) : (b, a), (ulong)random.Next(1, 51));
            }
        }

        for (int i = 0; i < ids.Length; i++)
        {
            Link(i, (i + 1) % ids.Length);
            Link(i, random.Next(ids.Length));
            Link(i, random.Next(ids.Length));
        }

        var neighbours = new List<NodeNeighbour>[ids.Length];
        for (int i = 0; i < neighbours.Length; i++)
        {
            neighbours[i] = [];
        }

        foreach (((int a, int b), ulong latency) in links)
        {
            neighbours[a].Add(new NodeNeighbour(ids[b], latency));
            neighbours[b].Add(new NodeNeighbour(ids[a], latency));
        }

        // Node 0 observes; its links become direct connections.
        NodeId self = ids[0];
        _topology = new Topology(self);
        foreach (NodeNeighbour peer in neighbours[0])
        {
            var session = new PeerSession(DuplexPipe.CreatePair().First, PeerRole.Client, self);
            _topology.AddConnection(new PeerConnection(session, peer.Id, "benchmark"));
        }

        NodeId from = neighbours[0][0].Id;
        var versions = new List<NodeVersion>(ids.Length - 1);
        var details = new List<NodeDetails>(ids.Length - 1);
        for (int i = 1; i < ids.Length; i++)
        {
            versions.Add(new NodeVersion(ids[i], 1));
            details.Add(new NodeDetails(ids[i], 1, neighbours[i]));
        }

        _topology.OnSummary(from, new PeerNodeSummary(1, versions));
        _topology.OnDetails(from, new PeerNodeDetails(details));

        _routes = _topology.ComputeRoutes();
        if (_routes.Count != ids.Length - 1)
        {
            throw new InvalidOperationException($"Expected routes to {ids.Length - 1} nodes, got {_routes.Count}.");
        }

        _targets = new NodeId[LookupTargets];
        for (int i = 0; i < _targets.Length; i++)
        {
            _targets[i] = ids[random.Next(1, ids.Length)];
        }
    }

    // Returns the count: the table's types are internal to the core assembly, and a benchmark method must be public.
    [Benchmark]
    public int ComputeRoutes() => _topology.ComputeRoutes().Count;

    [Benchmark(OperationsPerInvoke = LookupTargets)]
    public int RouteLookup()
    {
        int found = 0;
        foreach (NodeId target in _targets)
        {
            if (_routes.TryGetValue(target, out PeerConnection? hop) && hop.RemoteId != target)
            {
                found++;
            }
        }

        return found;
    }
}
