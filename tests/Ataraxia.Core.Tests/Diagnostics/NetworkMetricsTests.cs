using System.Diagnostics.Metrics;
using Ataraxia.Authentication;
using Ataraxia.Cbor;
using Ataraxia.Internal;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Diagnostics;

/// <summary>
/// The <c>Ataraxia</c> meter over the in-memory transport. Every test names its networks <c>{prefix}-{index}</c> with a
/// prefix of its own, and reads only the measurements tagged with those names, so other tests running at the same time
/// (whose networks report to the same meter) do not disturb the counts.
/// </summary>
public sealed class NetworkMetricsTests
{
    // A CBOR byte string of 10 bytes: 11 bytes on the wire.
    private static readonly byte[] Payload = [0x4a, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

    private readonly string _prefix = $"metrics-{Guid.NewGuid():N}";

    [Fact]
    public void The_meter_publishes_the_documented_instruments()
    {
        var published = new Dictionary<string, (string? Unit, string Kind, string? Version)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == Network.MeterName)
                {
                    lock (published)
                    {
                        published[instrument.Name] = (instrument.Unit, instrument.GetType().Name, instrument.Meter.Version);
                    }
                }
            },
        };
        _ = AtaraxiaMetrics.MessagesSent; // the instruments exist once the class is initialized
        listener.Start();

        Dictionary<string, (string? Unit, string Kind)> expected = new()
        {
            ["ataraxia.messages.sent"] = ("{message}", "Counter`1"),
            ["ataraxia.messages.received"] = ("{message}", "Counter`1"),
            ["ataraxia.messages.forwarded"] = ("{message}", "Counter`1"),
            ["ataraxia.messages.rejected"] = ("{message}", "Counter`1"),
            ["ataraxia.messages.failed"] = ("{message}", "Counter`1"),
            ["ataraxia.messages.dropped"] = ("{message}", "Counter`1"),
            ["ataraxia.bytes.sent"] = ("By", "Counter`1"),
            ["ataraxia.bytes.received"] = ("By", "Counter`1"),
            ["ataraxia.bytes.forwarded"] = ("By", "Counter`1"),
            ["ataraxia.peer.count"] = ("{peer}", "ObservableUpDownCounter`1"),
            ["ataraxia.node.count"] = ("{node}", "ObservableGauge`1"),
            ["ataraxia.peer.latency"] = ("ms", "Histogram`1"),
            ["ataraxia.authentication.failures"] = ("{failure}", "Counter`1"),
        };
        lock (published)
        {
            Assert.Equal(expected.Keys.Order(), published.Keys.Order());
            foreach ((string name, (string? unit, string kind)) in expected)
            {
                Assert.Equal((unit, kind), (published[name].Unit, published[name].Kind));
                Assert.Equal(typeof(Network).Assembly.GetName().Version?.ToString(), published[name].Version);
            }
        }
    }

    [Fact]
    public async Task A_routed_message_is_counted_once_at_each_hop_with_its_payload_bytes()
    {
        using var metrics = new MetricRecorder(_prefix);
        await using Testing.Mesh mesh = await CreateMeshAsync(3);
        await mesh.LinkAllAsync([(0, 1), (1, 2)]);
        await mesh.WaitForVisibilityAsync();

        const int count = 5;
        for (int i = 0; i < count; i++)
        {
            await mesh[0].SendEncodedAsync(mesh[2].Id, "metrics", Payload).DefaultTimeout();
        }

        // Counted before delivery: once the application read them, every hop has counted them.
        await ReadAsync(mesh[2], count);

        string a = Name(0), b = Name(1), c = Name(2);
        Assert.Equal(count, metrics.Sum("ataraxia.messages.sent", a, transport: "n0"));
        Assert.Equal(count * Payload.Length, metrics.Sum("ataraxia.bytes.sent", a, transport: "n0"));
        Assert.Equal(count, metrics.Sum("ataraxia.messages.forwarded", b, transport: "n1"));
        Assert.Equal(count * Payload.Length, metrics.Sum("ataraxia.bytes.forwarded", b, transport: "n1"));
        Assert.Equal(count, metrics.Sum("ataraxia.messages.received", c, transport: "n2"));
        Assert.Equal(count * Payload.Length, metrics.Sum("ataraxia.bytes.received", c, transport: "n2"));

        // Nothing else of this mesh: a node counts only its own role in a message.
        Assert.Equal(count, metrics.Sum("ataraxia.messages.sent"));
        Assert.Equal(count, metrics.Sum("ataraxia.messages.forwarded"));
        Assert.Equal(count, metrics.Sum("ataraxia.messages.received"));
        Assert.Equal(0, metrics.Sum("ataraxia.messages.failed"));
        Assert.Equal(0, metrics.Sum("ataraxia.messages.rejected"));
        Assert.Equal(0, metrics.Sum("ataraxia.messages.dropped"));
        Assert.All(metrics.Matching("ataraxia.messages.sent"), m => Assert.Equal(2, m.Tags.Count));
    }

    [Fact]
    public async Task A_send_without_route_counts_as_a_failed_message()
    {
        using var metrics = new MetricRecorder(_prefix);
        await using Testing.Mesh mesh = await CreateMeshAsync(1);

        var error = await Assert.ThrowsAsync<MessageDeliveryException>(() => mesh[0].SendAsync(NodeId.NewId(), "x", CborValue.Null).AsTask());

        Assert.Equal(MessageDeliveryFailure.NoRoute, error.Failure);
        Assert.Equal(1, metrics.Sum("ataraxia.messages.failed", Name(0), errorType: "no_route"));
        Assert.Equal(0, metrics.Sum("ataraxia.messages.sent"));
    }

    [Fact]
    public async Task Peer_and_node_counts_follow_links_and_departures()
    {
        using var metrics = new MetricRecorder(_prefix);
        await using Testing.Mesh mesh = await CreateMeshAsync(3);
        Assert.Equal(0, metrics.ObserveValue("ataraxia.peer.count", Name(1), "n1"));
        Assert.Equal(0, metrics.ObserveValue("ataraxia.node.count", Name(1)));

        await mesh.LinkAllAsync([(0, 1), (1, 2)]);
        await mesh.WaitForVisibilityAsync();

        Assert.Equal(1, metrics.ObserveValue("ataraxia.peer.count", Name(0), "n0"));
        Assert.Equal(2, metrics.ObserveValue("ataraxia.peer.count", Name(1), "n1"));
        Assert.Equal(1, metrics.ObserveValue("ataraxia.peer.count", Name(2), "n2"));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(2, metrics.ObserveValue("ataraxia.node.count", Name(i)));
        }

        await mesh.CutAsync(1, 2);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !mesh.Sees(0, 2) && !mesh.Sees(1, 2) && !mesh.Sees(2, 0));

        Assert.Equal(1, metrics.ObserveValue("ataraxia.peer.count", Name(1), "n1"));
        Assert.Equal(0, metrics.ObserveValue("ataraxia.peer.count", Name(2), "n2"));
        Assert.Equal(1, metrics.ObserveValue("ataraxia.node.count", Name(0)));
        Assert.Equal(0, metrics.ObserveValue("ataraxia.node.count", Name(2)));

        // A network that left reports nothing any more.
        await mesh[2].LeaveAsync();
        Assert.Null(metrics.ObserveValue("ataraxia.node.count", Name(2)));
        Assert.Null(metrics.ObserveValue("ataraxia.peer.count", Name(2)));
    }

    [Fact]
    public async Task Ping_round_trips_feed_the_latency_histogram()
    {
        using var metrics = new MetricRecorder(_prefix);

        // Fast pings without the accrual detector, which would drop a link that a busy test machine stalls for a moment.
        await using Testing.Mesh mesh = await CreateMeshAsync(2, o => o with
        {
            Session = o.Session with { PingInterval = TimeSpan.FromMilliseconds(20), UseAccrualFailureDetector = false },
        });
        await mesh.LinkAsync(0, 1);

        await TaskTimeoutExtensions.WaitUntilAsync(() =>
            metrics.Count("ataraxia.peer.latency", Name(0), "n0") >= 3 && metrics.Count("ataraxia.peer.latency", Name(1), "n1") >= 3);
        Assert.All(metrics.Matching("ataraxia.peer.latency"), m =>
        {
            Assert.InRange(m.Value, 0, TaskTimeoutExtensions.DefaultTimeoutValue.TotalMilliseconds);
            Assert.Equal("ms", m.Unit);
        });
    }

    [Fact]
    public async Task A_shared_secret_mismatch_counts_an_authentication_failure_on_both_sides()
    {
        using var metrics = new MetricRecorder(_prefix);
        await using Testing.Mesh mesh = await CreateMeshAsync(2, (i, o) => o with { Authentication = [new SharedSecretAuth($"secret {i}")] });

        await Assert.ThrowsAnyAsync<PeerSessionClosedException>(() => mesh.LinkAsync(0, 1));

        await TaskTimeoutExtensions.WaitUntilAsync(() =>
            metrics.Sum("ataraxia.authentication.failures", Name(0)) >= 1 && metrics.Sum("ataraxia.authentication.failures", Name(1)) >= 1);
        Assert.Equal(1, metrics.Sum("ataraxia.authentication.failures", Name(0), transport: "n0"));
        Assert.Equal(1, metrics.Sum("ataraxia.authentication.failures", Name(1), transport: "n1"));
        Assert.Equal(0, metrics.ObserveValue("ataraxia.peer.count", Name(0), "n0"));
    }

    private static async Task ReadAsync(Network network, int count)
    {
        using var timeout = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutValue);
        int read = 0;
        await foreach (Message message in network.ReadMessagesAsync(timeout.Token))
        {
            Assert.Equal("metrics", message.Type);
            if (++read == count)
            {
                return;
            }
        }
    }

    private string Name(int index) => $"{_prefix}-{index}";

    private Task<Testing.Mesh> CreateMeshAsync(int count, Func<NetworkOptions, NetworkOptions>? configure = null) =>
        CreateMeshAsync(count, (_, o) => configure is null ? o : configure(o));

    private Task<Testing.Mesh> CreateMeshAsync(int count, Func<int, NetworkOptions, NetworkOptions> configure) =>
        Testing.Mesh.CreateAsync(count, (i, o) => configure(i, o with { Name = Name(i) }), _prefix);
}
