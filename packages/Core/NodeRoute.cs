namespace Ataraxia;

/// <summary>
/// How messages from the local node travel to another node, as the local routing table has it
/// (<see cref="Network.GetRoute"/>).
/// </summary>
/// <remarks>
/// The path is the least-latency path this node computed from the topology its peers reported (WIRE.md §9.5). Only
/// the first hop is this node's choice: every router on the way chooses its own next hop, so when views differ for a
/// moment (while a change spreads) a message may take another path. A route is a snapshot; it is not updated.
/// </remarks>
public sealed class NodeRoute
{
    internal NodeRoute(IReadOnlyList<NodeId> path, string transport, TimeSpan latency)
    {
        Path = path;
        Transport = transport;
        Latency = latency;
    }

    /// <summary>Gets the node the route leads to.</summary>
    public NodeId Target => Path[^1];

    /// <summary>Gets the directly connected peer messages leave through: the first node of <see cref="Path"/>.</summary>
    public NodeId NextHop => Path[0];

    /// <summary>Gets the nodes a message passes, the local node excluded: the next hop first and the target last.</summary>
    public IReadOnlyList<NodeId> Path { get; }

    /// <summary>Gets a value indicating whether the target is a directly connected peer (a path of one hop).</summary>
    public bool IsDirect => Path.Count == 1;

    /// <summary>
    /// Gets the latency of the route as the routing weighs it: the first link's latency now plus the latencies the
    /// routers on the path reported for their links, each the mean of a link's recent ping round trips in whole
    /// milliseconds (WIRE.md §8.2, §9.4).
    /// </summary>
    public TimeSpan Latency { get; }

    /// <summary>Gets the name of the transport of the first hop, for example <c>tcp</c> (<see cref="Ataraxia.Transport.ITransport.Name"/>).</summary>
    public string Transport { get; }

    /// <inheritdoc />
    public override string ToString() => $"{string.Join(" -> ", Path)} (first hop over {Transport})";
}
