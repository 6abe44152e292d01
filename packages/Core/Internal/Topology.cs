using Ataraxia.Protocol;

namespace Ataraxia.Internal;

/// <summary>
/// The local model of the mesh (WIRE.md §9): versions, reported edges and who told us about each node, plus the
/// node's own connections. Not thread-safe: the network serialises access with one lock.
/// </summary>
/// <remarks>
/// In a mesh of N nodes every node holds N entries and recomputes its routes every time details arrive (at most
/// once per broadcast delay), so per-entry memory and per-computation allocations multiply by N². The route
/// computation therefore keeps its state in the entries and in per-thread scratch collections instead of
/// allocating dictionaries, and returns the previous table when nothing changed.
/// </remarks>
internal sealed class Topology(NodeId self)
{
    // Scratch space of the calls below, per thread rather than per topology: the calls run under the network's
    // lock and never yield, and a process with many networks keeps one copy per thread instead of one per network.
    [ThreadStatic]
    private static PriorityQueue<Entry, (ulong Cost, NodeId Id)>? t_queue;

    [ThreadStatic]
    private static List<Entry>? t_reached;

    [ThreadStatic]
    private static HashSet<NodeId>? t_requested;

    private readonly Dictionary<NodeId, Entry> _nodes = [];
    private readonly Dictionary<NodeId, List<PeerConnection>> _direct = [];
    private Dictionary<NodeId, PeerConnection> _routes = [];
    private int _pass;

    public NodeId Self { get; } = self;

    public ulong OwnVersion { get; private set; }

    /// <summary>Gets a value indicating whether a change calls for a NODE_SUMMARY broadcast.</summary>
    public bool BroadcastNeeded { get; set; }

    public IEnumerable<PeerConnection> Connections => _direct.Values.SelectMany(c => c);

    public bool IsDirect(NodeId id) => _direct.ContainsKey(id);

    public PeerConnection? FirstConnection(NodeId id) => _direct.TryGetValue(id, out List<PeerConnection>? list) ? list[0] : null;

    public void AddConnection(PeerConnection connection)
    {
        NodeId peer = connection.RemoteId;
        if (!_direct.TryGetValue(peer, out List<PeerConnection>? list))
        {
            _direct[peer] = list = [];
        }

        list.Add(connection);
        GetOrCreate(peer);
        OwnVersion++;
        BroadcastNeeded = true;
    }

    public bool RemoveConnection(PeerConnection connection)
    {
        NodeId peer = connection.RemoteId;
        if (!_direct.TryGetValue(peer, out List<PeerConnection>? list) || !list.Remove(connection))
        {
            return false;
        }

        OwnVersion++;
        BroadcastNeeded = true;
        if (list.Count > 0)
        {
            return true;
        }

        // The last link to this peer is gone: what it told us about other nodes no longer holds.
        _direct.Remove(peer);
        foreach (Entry entry in _nodes.Values)
        {
            if (entry.ReachableVia.Remove(peer) && entry.ReachableVia.Count == 0 && !_direct.ContainsKey(entry.Id))
            {
                entry.Version = 0;
                entry.Edges = [];
            }
        }

        return true;
    }

    /// <summary>Handles NODE_SUMMARY from a direct peer (§9.2); returns the ids to request from it.</summary>
    public List<NodeId> OnSummary(NodeId from, PeerNodeSummary summary)
    {
        var requests = new List<NodeId>();
        HashSet<NodeId> requested = t_requested ??= [];
        requested.Clear();
        if (VersionOf(from) < summary.OwnVersion)
        {
            requests.Add(from);
            requested.Add(from);
        }

        // Known nodes are marked as listed in their entries; listed nodes we do not know need no mark.
        int pass = ++_pass;
        IReadOnlyList<NodeVersion> nodes = summary.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            NodeVersion node = nodes[i];
            if (node.Id == Self)
            {
                continue;
            }

            ulong known = 0;
            if (_nodes.TryGetValue(node.Id, out Entry? entry))
            {
                entry.ListedPass = pass;
                known = entry.Version;
            }

            if (known < node.Version && requested.Add(node.Id))
            {
                requests.Add(node.Id);
            }
        }

        requested.Clear();
        foreach (Entry entry in _nodes.Values)
        {
            if (entry.ListedPass == pass || _direct.ContainsKey(entry.Id) || !entry.ReachableVia.Remove(from))
            {
                continue;
            }

            BroadcastNeeded = true;
            if (entry.ReachableVia.Count == 0)
            {
                entry.Version = 0;
                entry.Edges = [];
            }
        }

        return requests;
    }

    /// <summary>Answers NODE_REQUEST (§9.3): details of every requested node we know, ourselves included.</summary>
    public PeerNodeDetails OnRequest(PeerNodeRequest request)
    {
        IReadOnlyList<NodeId> ids = request.Nodes;
        var details = new List<NodeDetails>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            NodeId id = ids[i];
            if (id == Self)
            {
                details.Add(OwnDetails());
            }
            else if (_nodes.TryGetValue(id, out Entry? entry))
            {
                details.Add(new NodeDetails(id, entry.Version, entry.Edges));
            }
        }

        return new PeerNodeDetails(details);
    }

    /// <summary>
    /// Applies NODE_DETAILS from a direct peer (§9.3); returns true if anything changed: a node, an edge, a
    /// version, or who told us about a node. Details that only repeat what is known (the same node announced by
    /// several peers, or latency gossip without news) change nothing, so they call for no route computation.
    /// </summary>
    public bool OnDetails(NodeId from, PeerNodeDetails details)
    {
        bool changed = false;
        int count = _nodes.Count;
        IReadOnlyList<NodeDetails> nodes = details.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            NodeDetails node = nodes[i];
            if (node.Id == Self)
            {
                continue;
            }

            Entry entry = GetOrCreate(node.Id);
            changed |= entry.ReachableVia.Add(from);
            if (!SameEdges(entry.Edges, node.Neighbours))
            {
                // An array of its own rather than the decoder's list: one object less per entry, held long.
                entry.Edges = node.Neighbours as NodeNeighbour[] ?? [.. node.Neighbours];
                changed = true;
            }

            IReadOnlyList<NodeNeighbour> neighbours = node.Neighbours;
            for (int j = 0; j < neighbours.Count; j++)
            {
                if (neighbours[j].Id != Self)
                {
                    GetOrCreate(neighbours[j].Id);
                }
            }

            if (node.Version > entry.Version)
            {
                entry.Version = node.Version;
                BroadcastNeeded = true;
                changed = true;
            }
        }

        return changed || _nodes.Count != count;
    }

    /// <summary>Builds the NODE_SUMMARY of §9.2: own version and every node someone told us about.</summary>
    public PeerNodeSummary CreateSummary()
    {
        var nodes = new List<NodeVersion>(_nodes.Count);
        foreach (Entry entry in _nodes.Values)
        {
            if (entry.ReachableVia.Count > 0)
            {
                nodes.Add(new NodeVersion(entry.Id, entry.Version));
            }
        }

        return new PeerNodeSummary(OwnVersion, nodes);
    }

    /// <summary>Builds the latency gossip of §9.4 for one peer, or null when there is nothing to tell.</summary>
    public PeerNodeDetails? CreateGossip(NodeId peer)
    {
        var details = new List<NodeDetails>(_nodes.Count);
        foreach (Entry entry in _nodes.Values)
        {
            if (entry.Id != peer && entry.Version > 0)
            {
                details.Add(new NodeDetails(entry.Id, entry.Version, entry.Edges));
            }
        }

        return details.Count == 0 ? null : new PeerNodeDetails(details);
    }

    /// <summary>
    /// Recomputes routes (§9.5): least total latency from self over the reported directed edges, direct peers
    /// always over their own connection. Nodes without a route are forgotten.
    /// </summary>
    /// <returns>The routes; the very instance returned last time when no route changed. Treat it as read-only.</returns>
    public Dictionary<NodeId, PeerConnection> ComputeRoutes()
    {
        int pass = ++_pass;
        PriorityQueue<Entry, (ulong Cost, NodeId Id)> queue = t_queue ??= new();
        List<Entry> reached = t_reached ??= [];
        try
        {
            foreach (List<PeerConnection> list in _direct.Values)
            {
                foreach (PeerConnection connection in list)
                {
                    Relax(queue, null, 0, connection.RemoteId, (ulong)connection.Latency, pass);
                }
            }

            while (queue.TryDequeue(out Entry? current, out (ulong Cost, NodeId Id) priority))
            {
                if (current.DonePass == pass)
                {
                    continue;
                }

                current.DonePass = pass;
                reached.Add(current);

                // The next hop is the direct peer closest to the target on the path (§9.5): a direct peer's own
                // connection, else the predecessor's hop. The predecessor was settled before this node.
                current.Hop = _direct.TryGetValue(current.Id, out List<PeerConnection>? own) ? own[0] : current.Previous!.Hop;
                IReadOnlyList<NodeNeighbour> edges = current.Edges;
                for (int i = 0; i < edges.Count; i++)
                {
                    Relax(queue, current, priority.Cost, edges[i].Id, edges[i].Latency, pass);
                }
            }

            bool same = _routes.Count == reached.Count;
            for (int i = 0; same && i < reached.Count; i++)
            {
                same = _routes.TryGetValue(reached[i].Id, out PeerConnection? hop) && hop == reached[i].Hop;
            }

            if (!same)
            {
                var routes = new Dictionary<NodeId, PeerConnection>(reached.Count);
                foreach (Entry entry in reached)
                {
                    routes[entry.Id] = entry.Hop!;
                }

                _routes = routes;
            }

            // Unreachable nodes are deleted from the table.
            if (_nodes.Count > reached.Count)
            {
                foreach (Entry entry in _nodes.Values)
                {
                    if (entry.DonePass != pass)
                    {
                        _nodes.Remove(entry.Id);
                    }
                }
            }

            return _routes;
        }
        finally
        {
            queue.Clear();
            reached.Clear();
        }
    }

    /// <summary>
    /// The path of the last route computation to a routed node: from the direct peer the route leaves through (the
    /// owner of <paramref name="hop"/>) to <paramref name="target"/>.
    /// </summary>
    public NodeId[] PathTo(NodeId target, PeerConnection hop)
    {
        // Entries keep their predecessor from the last computation and are removed only by the next one, so the
        // chain back from the target reaches the first direct peer on it, whose connection is the hop (§9.5).
        var path = new List<NodeId>();
        _nodes.TryGetValue(target, out Entry? entry);
        while (entry is not null && path.Count <= _nodes.Count)
        {
            path.Add(entry.Id);
            if (entry.Id == hop.RemoteId)
            {
                path.Reverse();
                return [.. path];
            }

            entry = entry.Previous;
        }

        // Not expected: say only what is certain.
        return target == hop.RemoteId ? [target] : [hop.RemoteId, target];
    }

    /// <summary>
    /// Gets the latency of the route to <paramref name="target"/> through <paramref name="hop"/> in milliseconds: the
    /// link to the hop now, plus the reported edges from the hop to the target as the last computation added them.
    /// </summary>
    public ulong LatencyTo(NodeId target, PeerConnection hop)
    {
        ulong first = (ulong)hop.Latency;
        if (target == hop.RemoteId
            || !_nodes.TryGetValue(target, out Entry? entry)
            || !_nodes.TryGetValue(hop.RemoteId, out Entry? peer)
            || entry.Distance < peer.Distance)
        {
            return first;
        }

        return first + (entry.Distance - peer.Distance);
    }

    public NodeDetails OwnDetails()
    {
        var neighbours = new List<NodeNeighbour>();
        foreach (List<PeerConnection> list in _direct.Values)
        {
            foreach (PeerConnection connection in list)
            {
                neighbours.Add(new NodeNeighbour(connection.RemoteId, (ulong)connection.Latency));
            }
        }

        return new NodeDetails(Self, OwnVersion, neighbours);
    }

    public void Clear()
    {
        _nodes.Clear();
        _direct.Clear();
        OwnVersion++;
    }

    // One edge of Dijkstra's algorithm; from is null for the local node. Ties in cost go to the predecessor with
    // the lower id, so the result does not depend on the order of the edges.
    private void Relax(PriorityQueue<Entry, (ulong Cost, NodeId Id)> queue, Entry? from, ulong fromCost, NodeId id, ulong latency, int pass)
    {
        if (id == Self)
        {
            return;
        }

        // Every edge target has an entry (details create them), so this only looks up.
        Entry entry = GetOrCreate(id);
        if (entry.DonePass == pass)
        {
            return;
        }

        ulong cost = fromCost + latency;
        if (entry.SeenPass != pass || cost < entry.Distance
            || (cost == entry.Distance && (from?.Id ?? Self).CompareTo(entry.Previous?.Id ?? Self) < 0))
        {
            entry.SeenPass = pass;
            entry.Distance = cost;
            entry.Previous = from;
            queue.Enqueue(entry, (cost, id));
        }
    }

    private static bool SameEdges(IReadOnlyList<NodeNeighbour> known, IReadOnlyList<NodeNeighbour> reported)
    {
        if (known.Count != reported.Count)
        {
            return false;
        }

        for (int i = 0; i < known.Count; i++)
        {
            if (known[i] != reported[i])
            {
                return false;
            }
        }

        return true;
    }

    private ulong VersionOf(NodeId id) => _nodes.TryGetValue(id, out Entry? entry) ? entry.Version : 0;

    private Entry GetOrCreate(NodeId id)
    {
        if (!_nodes.TryGetValue(id, out Entry? entry))
        {
            _nodes[id] = entry = new Entry(id);
        }

        return entry;
    }

    private sealed class Entry(NodeId id)
    {
        public NodeId Id { get; } = id;

        public ulong Version { get; set; }

        public IReadOnlyList<NodeNeighbour> Edges { get; set; } = [];

        // A field, so that the struct is updated in place.
        public PeerSet ReachableVia;

        // Scratch of ComputeRoutes and OnSummary, valid when the pass numbers match the topology's current pass.
        public int SeenPass { get; set; }

        public int DonePass { get; set; }

        public int ListedPass { get; set; }

        public ulong Distance { get; set; }

        public Entry? Previous { get; set; }

        public PeerConnection? Hop { get; set; }
    }

    /// <summary>
    /// The peers a node is reachable via (§9.1): usually one or two, so a small array, and a hash set only for nodes
    /// that many peers report (as a hub sees them). A hash set per entry would be most of the table's memory.
    /// </summary>
    private struct PeerSet
    {
        private const int ArrayLimit = 8;
        private object? _items; // null, a NodeId[] holding _count ids, or a HashSet<NodeId>
        private int _count;

        public readonly int Count => _items is HashSet<NodeId> set ? set.Count : _count;

        public bool Add(NodeId peer)
        {
            if (_items is HashSet<NodeId> set)
            {
                return set.Add(peer);
            }

            var array = (NodeId[]?)_items;
            if (array is null)
            {
                _items = new NodeId[] { peer, default };
                _count = 1;
                return true;
            }

            if (Array.IndexOf(array, peer, 0, _count) >= 0)
            {
                return false;
            }

            if (_count == array.Length)
            {
                if (_count >= ArrayLimit)
                {
                    _items = new HashSet<NodeId>(array) { peer };
                    _count = 0;
                    return true;
                }

                Array.Resize(ref array, array.Length * 2);
                _items = array;
            }

            array[_count++] = peer;
            return true;
        }

        public bool Remove(NodeId peer)
        {
            if (_items is HashSet<NodeId> set)
            {
                return set.Remove(peer);
            }

            var array = (NodeId[]?)_items;
            int index = array is null ? -1 : Array.IndexOf(array, peer, 0, _count);
            if (index < 0)
            {
                return false;
            }

            array![index] = array[--_count];
            array[_count] = default;
            if (_count == 0)
            {
                _items = null;
            }

            return true;
        }
    }
}
