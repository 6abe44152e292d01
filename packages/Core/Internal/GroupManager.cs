using Ataraxia.Cbor;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Internal;

/// <summary>
/// Group membership across the mesh (WIRE.md §12.1): a membership version, query/membership/join/leave
/// messages, and per remote node the groups it is a member of.
/// </summary>
internal sealed class GroupManager(Network network)
{
    public const string TypePrefix = "at:group:";
    private const string QueryType = "at:group:query";
    private const string MembershipType = "at:group:membership";
    private const string JoinType = "at:group:join";
    private const string LeaveType = "at:group:leave";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<NamedGroup>> _local = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeId, RemoteNode> _remote = [];
    private readonly ILogger _logger = network.LoggerFactory.CreateLogger<GroupManager>();
    private ulong _version;
    private ITimer? _queryTimer;
    private bool _started;
    private bool _active;

    public void Start()
    {
        lock (_lock)
        {
            _started = true;
        }
    }

    public void Stop()
    {
        lock (_lock)
        {
            _started = false;
            _queryTimer?.Dispose();
        }
    }

    /// <summary>
    /// Starts asking other nodes for their groups. Like JavaScript, which creates its group machinery only with
    /// the first group object, a node without groups sends no group queries: apps that use no groups never see them.
    /// </summary>
    public void Activate()
    {
        List<Node> nodes;
        lock (_lock)
        {
            if (_active)
            {
                return;
            }

            _active = true;
            TimeSpan interval = network.Options.GroupQueryInterval;
            _queryTimer = network.Options.TimeProvider.CreateTimer(static s => ((GroupManager)s!).QueryRandomNode(), this, interval, interval);
            nodes = [.. _remote.Values.Select(r => r.Node)];
        }

        Send(nodes, QueryType, new CborMap { ["version"] = 0 });
    }

    /// <summary>Gets the members of a group other than the local node.</summary>
    public IReadOnlyCollection<Node> MembersOf(string group)
    {
        lock (_lock)
        {
            return [.. _remote.Values.Where(r => r.Groups.Contains(group)).Select(r => r.Node)];
        }
    }

    public bool IsMember(string group, NodeId node)
    {
        lock (_lock)
        {
            return _remote.TryGetValue(node, out RemoteNode? remote) && remote.Groups.Contains(group);
        }
    }

    public void Join(NamedGroup group)
    {
        ulong version;
        lock (_lock)
        {
            if (!_local.TryGetValue(group.Name, out List<NamedGroup>? members))
            {
                _local[group.Name] = members = [];
            }

            members.Add(group);
            if (members.Count > 1)
            {
                return;
            }

            version = ++_version;
        }

        Send(network.Nodes, JoinType, new CborMap { ["id"] = group.Name, ["version"] = (long)version });
    }

    public void Leave(NamedGroup group)
    {
        ulong version;
        lock (_lock)
        {
            if (!_local.TryGetValue(group.Name, out List<NamedGroup>? members) || !members.Remove(group) || members.Count > 0)
            {
                return;
            }

            _local.Remove(group.Name);
            version = ++_version;
        }

        Send(network.Nodes, LeaveType, new CborMap { ["id"] = group.Name, ["version"] = (long)version });
    }

    public void OnNodeAvailable(Node node)
    {
        bool query;
        lock (_lock)
        {
            _remote[node.Id] = new RemoteNode(node);
            query = _active && _started;
        }

        if (query)
        {
            Send([node], QueryType, new CborMap { ["version"] = 0 });
        }
    }

    public void OnNodeUnavailable(Node node)
    {
        RemoteNode? remote;
        lock (_lock)
        {
            if (!_remote.Remove(node.Id, out remote))
            {
                return;
            }
        }

        foreach (string group in remote.Groups)
        {
            MemberChanged(group, remote.Node, joined: false);
        }
    }

    /// <summary>Hands an application message to the local groups its source is a member of.</summary>
    public void OnMessage(Message message)
    {
        List<NamedGroup>? targets = null;
        lock (_lock)
        {
            if (_local.Count == 0 || !_remote.TryGetValue(message.Source.Id, out RemoteNode? remote))
            {
                return;
            }

            foreach (string group in remote.Groups)
            {
                if (_local.TryGetValue(group, out List<NamedGroup>? members))
                {
                    (targets ??= []).AddRange(members);
                }
            }
        }

        if (targets is null)
        {
            return;
        }

        foreach (NamedGroup group in targets)
        {
            group.Deliver(message);
        }
    }

    /// <summary>Handles an <c>at:group:*</c> message.</summary>
    public void Handle(Message message)
    {
        CborMap payload;
        try
        {
            payload = message.Data.AsMap();
        }
        catch (Exception ex) when (ex is CborException or InvalidOperationException)
        {
            Log.MessageDropped(_logger, message.Type, message.Source.Id, "malformed group message");
            return;
        }

        switch (message.Type)
        {
            case QueryType:
                HandleQuery(message.Source, payload);
                break;
            case MembershipType:
                HandleMembership(message.Source, payload);
                break;
            case JoinType:
            case LeaveType:
                HandleJoinOrLeave(message.Source, payload, message.Type == JoinType);
                break;
        }
    }

    private void HandleQuery(Node source, CborMap payload)
    {
        CborMap reply;
        lock (_lock)
        {
            if (TryGetVersion(payload) == _version)
            {
                return;
            }

            reply = new CborMap
            {
                ["version"] = (long)_version,
                ["groups"] = new CborArray(_local.Keys.Select(k => (CborValue)k)),
            };
        }

        Send([source], MembershipType, reply);
    }

    private void HandleMembership(Node source, CborMap payload)
    {
        if (!payload.TryGetValue("groups", out CborValue? groupsValue) || groupsValue is not CborArray groups)
        {
            return;
        }

        var incoming = new HashSet<string>(groups.OfType<CborText>().Select(t => t.Value), StringComparer.Ordinal);
        List<string> joined;
        List<string> left;
        lock (_lock)
        {
            if (!_remote.TryGetValue(source.Id, out RemoteNode? remote))
            {
                return;
            }

            joined = [.. incoming.Where(g => !remote.Groups.Contains(g))];
            left = [.. remote.Groups.Where(g => !incoming.Contains(g))];
            remote.Groups.Clear();
            remote.Groups.UnionWith(incoming);
            remote.Version = TryGetVersion(payload) ?? remote.Version;
        }

        foreach (string group in joined)
        {
            MemberChanged(group, source, joined: true);
        }

        foreach (string group in left)
        {
            MemberChanged(group, source, joined: false);
        }
    }

    private void HandleJoinOrLeave(Node source, CborMap payload, bool join)
    {
        if (!payload.TryGetValue("id", out CborValue? idValue) || idValue is not CborText id)
        {
            return;
        }

        bool changed;
        lock (_lock)
        {
            if (!_remote.TryGetValue(source.Id, out RemoteNode? remote))
            {
                return;
            }

            changed = join ? remote.Groups.Add(id.Value) : remote.Groups.Remove(id.Value);
            remote.Version = TryGetVersion(payload) ?? remote.Version;
        }

        if (changed)
        {
            MemberChanged(id.Value, source, join);
        }
    }

    private void MemberChanged(string group, Node node, bool joined)
    {
        List<NamedGroup> members;
        lock (_lock)
        {
            members = _local.TryGetValue(group, out List<NamedGroup>? list) ? [.. list] : [];
        }

        foreach (NamedGroup member in members)
        {
            member.OnMemberChanged(node, joined);
        }
    }

    private void QueryRandomNode()
    {
        RemoteNode? target = null;
        lock (_lock)
        {
            if (_remote.Count > 0)
            {
                target = _remote.Values.ElementAt(Random.Shared.Next(_remote.Count));
            }
        }

        if (target is not null)
        {
            Send([target.Node], QueryType, new CborMap { ["version"] = (long)target.Version });
        }
    }

    private static ulong? TryGetVersion(CborMap payload) =>
        payload.TryGetValue("version", out CborValue? value) && value.Kind is CborValueKind.Integer && value.AsInt64() >= 0
            ? (ulong)value.AsInt64()
            : null;

    // Protocol messages never run on the caller's path (which may hold the network's lock or be a read loop):
    // they go out from the thread pool, and nobody waits for their acknowledgements.
    private void Send(IEnumerable<Node> targets, string type, CborValue payload)
    {
        byte[] encoded = payload.Encode();
        NodeId[] ids = [.. targets.Select(n => n.Id)];
        if (ids.Length > 0 && network.IsJoined)
        {
            _ = Task.Run(() => network.SendToManyAsync(ids, type, encoded, CancellationToken.None));
        }
    }

    private sealed class RemoteNode(Node node)
    {
        public Node Node { get; } = node;

        public ulong Version { get; set; }

        public HashSet<string> Groups { get; } = new(StringComparer.Ordinal);
    }
}
