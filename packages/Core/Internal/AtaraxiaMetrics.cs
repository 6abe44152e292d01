using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ataraxia.Internal;

/// <summary>
/// The instruments of the <c>Ataraxia</c> meter (<see cref="Network.MeterName"/>), shared by every network of the process.
/// Instrument names, units and tags are public contract: the root README lists them.
/// </summary>
/// <remarks>
/// Per-message instruments are recorded with tags precomputed per network or per connection and only when
/// <see cref="Instrument.Enabled"/>, so that the send and receive paths allocate nothing for metrics and cost a field
/// read when nobody listens. The peer and node counts are observed on collection, from the networks that are joined.
/// </remarks>
internal static class AtaraxiaMetrics
{
    /// <summary>The tag carrying the network name.</summary>
    public const string NetworkTag = "ataraxia.network";

    /// <summary>The tag carrying the transport name (<see cref="Transport.ITransport.Name"/>).</summary>
    public const string TransportTag = "ataraxia.transport";

    /// <summary>The OpenTelemetry tag for the reason of a failure.</summary>
    public const string ErrorTypeTag = "error.type";

    private static readonly Meter Meter = new(new MeterOptions(Network.MeterName)
    {
        Version = typeof(AtaraxiaMetrics).Assembly.GetName().Version?.ToString(),
    });

    private static readonly Lock NetworksLock = new();
    private static Network[] _networks = [];

    /// <summary>
    /// Counts one message and its payload bytes on a pair of instruments, each only when a listener enabled it. The tags are
    /// the connection's precomputed ones, so counting allocates nothing.
    /// </summary>
    public static void CountMessage(Counter<long> messages, Counter<long> bytes, int byteCount, KeyValuePair<string, object?>[] tags)
    {
        if (messages.Enabled)
        {
            messages.Add(1, tags);
        }

        if (bytes.Enabled)
        {
            bytes.Add(byteCount, tags);
        }
    }

    /// <summary>DATA messages this node originated and queued to a next hop.</summary>
    public static readonly Counter<long> MessagesSent = Meter.CreateCounter<long>(
        "ataraxia.messages.sent", "{message}", "Messages this node originated and handed to the next hop.");

    /// <summary>DATA messages addressed to this node that arrived.</summary>
    public static readonly Counter<long> MessagesReceived = Meter.CreateCounter<long>(
        "ataraxia.messages.received", "{message}", "Messages addressed to this node that arrived from a peer.");

    /// <summary>DATA messages this node routed on for other nodes.</summary>
    public static readonly Counter<long> MessagesForwarded = Meter.CreateCounter<long>(
        "ataraxia.messages.forwarded", "{message}", "Messages this node routed on towards another node.");

    /// <summary>DATA messages of others this node refused to route (answered with DATA_REJECT).</summary>
    public static readonly Counter<long> MessagesRejected = Meter.CreateCounter<long>(
        "ataraxia.messages.rejected", "{message}", "Messages for other nodes that this node refused to route.");

    /// <summary>Sends of this node that failed (no route, rejected by the next hop, not acknowledged in time, connection closed).</summary>
    public static readonly Counter<long> MessagesFailed = Meter.CreateCounter<long>(
        "ataraxia.messages.failed", "{message}", "Messages this node originated that the next hop did not acknowledge.");

    /// <summary>Messages addressed to this node that were not delivered to the application.</summary>
    public static readonly Counter<long> MessagesDropped = Meter.CreateCounter<long>(
        "ataraxia.messages.dropped", "{message}", "Messages addressed to this node that were dropped instead of delivered.");

    /// <summary>Payload bytes of <see cref="MessagesSent"/>.</summary>
    public static readonly Counter<long> BytesSent = Meter.CreateCounter<long>(
        "ataraxia.bytes.sent", "By", "Payload bytes of the messages this node originated.");

    /// <summary>Payload bytes of <see cref="MessagesReceived"/>.</summary>
    public static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>(
        "ataraxia.bytes.received", "By", "Payload bytes of the messages addressed to this node.");

    /// <summary>Payload bytes of <see cref="MessagesForwarded"/>.</summary>
    public static readonly Counter<long> BytesForwarded = Meter.CreateCounter<long>(
        "ataraxia.bytes.forwarded", "By", "Payload bytes of the messages this node routed on.");

    /// <summary>Round-trip times measured by PING and PONG on a peer connection.</summary>
    public static readonly Histogram<double> PeerLatency = Meter.CreateHistogram(
        "ataraxia.peer.latency",
        "ms",
        "Round-trip time of a PING answered by PONG on a direct peer connection.",
        tags: null,
        advice: new InstrumentAdvice<double>
        {
            // Links range from the same machine (well under a millisecond) to other continents.
            HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
        });

    /// <summary>Peer sessions that ended because authentication failed, on either side.</summary>
    public static readonly Counter<long> AuthenticationFailures = Meter.CreateCounter<long>(
        "ataraxia.authentication.failures", "{failure}", "Peer connections that ended because authentication failed.");

    /// <summary>The direct peer connections of the joined networks.</summary>
    public static readonly ObservableUpDownCounter<long> Peers = Meter.CreateObservableUpDownCounter(
        "ataraxia.peer.count", ObservePeers, "{peer}", "Authenticated peer connections the network routes over.");

    /// <summary>The nodes the joined networks can reach.</summary>
    public static readonly ObservableGauge<long> Nodes = Meter.CreateObservableGauge(
        "ataraxia.node.count", ObserveNodes, "{node}", "Nodes of the mesh currently reachable, the local node excluded.");

    /// <summary>Starts reporting the peers and nodes of a network that joined.</summary>
    public static void Track(Network network)
    {
        lock (NetworksLock)
        {
            _networks = [.. _networks, network];
        }
    }

    /// <summary>Stops reporting a network that left.</summary>
    public static void Untrack(Network network)
    {
        lock (NetworksLock)
        {
            _networks = Array.FindAll(_networks, n => n != network);
        }
    }

    /// <summary>Builds the tags of a failure counted for a network.</summary>
    public static TagList FailureTags(string network, string errorType) => new()
    {
        { NetworkTag, network },
        { ErrorTypeTag, errorType },
    };

    // Several networks of one name in a process (tests, or a node joining twice) report their sum: measurements of
    // one instrument must not repeat a tag set.
    private static IEnumerable<Measurement<long>> ObservePeers()
    {
        Network[] networks = Volatile.Read(ref _networks);
        if (networks.Length == 0)
        {
            return [];
        }

        var counts = new Dictionary<(string Network, string Transport), long>();
        foreach (Network network in networks)
        {
            network.CountPeers(counts);
        }

        return counts.Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>(NetworkTag, c.Key.Network), new KeyValuePair<string, object?>(TransportTag, c.Key.Transport)));
    }

    private static IEnumerable<Measurement<long>> ObserveNodes()
    {
        Network[] networks = Volatile.Read(ref _networks);
        if (networks.Length == 0)
        {
            return [];
        }

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (Network network in networks)
        {
            counts[network.Name] = counts.GetValueOrDefault(network.Name) + network.CountNodes();
        }

        return counts.Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>(NetworkTag, c.Key)));
    }
}
