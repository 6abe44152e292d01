using Ataraxia.Protocol;

namespace Ataraxia.Internal;

/// <summary>
/// The local model of the mesh (WIRE.md §9): versions, reported edges and who told us about each node, plus the
/// node's own connections. Not thread-safe: the network serialises access with one lock.
/// </summary>
internal sealed class Topology(NodeId self)
{
    private readonly Dictionary<NodeId, Entry> _nodes = [];
    private readonly Dictionary<NodeId, List<PeerConnection>> _direct = [];

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
        if (VersionOf(from) < summary.OwnVersion)
        {
            requests.Add(from);
        }

        var listed = new HashSet<NodeId>();
        foreach (NodeVersion node in summary.Nodes)
        {
            if (node.Id == Self)
            {
                continue;
            }

            listed.Add(node.Id);
            if (VersionOf(node.Id) < node.Version && !requests.Contains(node.Id))
            {
                requests.Add(node.Id);
            }
        }

        foreach (Entry entry in _nodes.Values)
        {
            if (listed.Contains(entry.Id) || _direct.ContainsKey(entry.Id) || !entry.ReachableVia.Remove(from))
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
        var details = new List<NodeDetails>(request.Nodes.Count);
        foreach (NodeId id in request.Nodes)
        {
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

    /// <summary>Applies NODE_DETAILS from a direct peer (§9.3); returns true if routes may have changed.</summary>
    public bool OnDetails(NodeId from, PeerNodeDetails details)
    {
        bool changed = false;
        foreach (NodeDetails node in details.Nodes)
        {
            if (node.Id == Self)
            {
                continue;
            }

            Entry entry = GetOrCreate(node.Id);
            changed |= entry.ReachableVia.Add(from);
            entry.Edges = node.Neighbours;
            foreach (NodeNeighbour neighbour in node.Neighbours)
            {
                if (neighbour.Id != Self)
                {
                    GetOrCreate(neighbour.Id);
                }
            }

            if (node.Version > entry.Version)
            {
                entry.Version = node.Version;
                BroadcastNeeded = true;
                changed = true;
            }
        }

        return true;
    }

    /// <summary>Builds the NODE_SUMMARY of §9.2: own version and every node someone told us about.</summary>
    public PeerNodeSummary CreateSummary()
    {
        var nodes = new List<NodeVersion>();
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
        var details = new List<NodeDetails>();
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
    public Dictionary<NodeId, PeerConnection> ComputeRoutes()
    {
        var routes = new Dictionary<NodeId, PeerConnection>();
        var distance = new Dictionary<NodeId, ulong> { [Self] = 0 };
        var previous = new Dictionary<NodeId, NodeId>();
        var done = new HashSet<NodeId>();
        var queue = new PriorityQueue<NodeId, (ulong Cost, NodeId Id)>();
        queue.Enqueue(Self, (0, Self));
        while (queue.TryDequeue(out NodeId current, out (ulong Cost, NodeId Id) priority))
        {
            if (!done.Add(current))
            {
                continue;
            }

            foreach ((NodeId neighbour, ulong latency) in EdgesOf(current))
            {
                if (neighbour == Self || done.Contains(neighbour))
                {
                    continue;
                }

                ulong cost = priority.Cost + latency;
                if (!distance.TryGetValue(neighbour, out ulong known) || cost < known
                    || (cost == known && previous.TryGetValue(neighbour, out NodeId prior) && current.CompareTo(prior) < 0))
                {
                    distance[neighbour] = cost;
                    previous[neighbour] = current;
                    queue.Enqueue(neighbour, (cost, neighbour));
                }
            }
        }

        foreach (NodeId target in done)
        {
            if (target == Self)
            {
                continue;
            }

            // Walk back from the target to the first direct peer on the path (§9.5).
            NodeId hop = target;
            while (!_direct.ContainsKey(hop))
            {
                hop = previous[hop];
            }

            routes[target] = _direct[hop][0];
        }

        foreach (NodeId id in _direct.Keys)
        {
            routes[id] = _direct[id][0];
        }

        // Unreachable nodes are deleted from the table.
        foreach (NodeId id in _nodes.Keys.Where(id => !routes.ContainsKey(id)).ToList())
        {
            _nodes.Remove(id);
        }

        return routes;
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

    private IEnumerable<(NodeId Neighbour, ulong Latency)> EdgesOf(NodeId node)
    {
        if (node == Self)
        {
            foreach (List<PeerConnection> list in _direct.Values)
            {
                foreach (PeerConnection connection in list)
                {
                    yield return (connection.RemoteId, (ulong)connection.Latency);
                }
            }
        }
        else if (_nodes.TryGetValue(node, out Entry? entry))
        {
            foreach (NodeNeighbour neighbour in entry.Edges)
            {
                yield return (neighbour.Id, neighbour.Latency);
            }
        }
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

        public HashSet<NodeId> ReachableVia { get; } = [];
    }
}
