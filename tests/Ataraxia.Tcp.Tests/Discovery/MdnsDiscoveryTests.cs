using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Ataraxia.Tcp.Discovery;
using Ataraxia.Tcp.Discovery.Dns;
using Ataraxia.Testing;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Tests.Discovery;

/// <summary>The mDNS responder, browser and dialling policy over the in-memory multicast fabric.</summary>
public sealed class MdnsDiscoveryTests : IAsyncLifetime
{
    private const string Network = "example-net";

    private static readonly MdnsTimings Fast = new()
    {
        ProbeDelayMax = TimeSpan.FromMilliseconds(10),
        ProbeInterval = TimeSpan.FromMilliseconds(20),
        AnnounceDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)],
        GoodbyeInterval = TimeSpan.FromMilliseconds(50),
        QueryInitialInterval = TimeSpan.FromMilliseconds(300),
        ExpiryGrace = TimeSpan.FromMilliseconds(200),
        ResolveRetryInterval = TimeSpan.FromMilliseconds(200),
    };

    // One announcement only, so a test's own query is not confused with announcements (these nodes do not
    // browse either, so no answers to their own queries turn up).
    private static readonly MdnsTimings Quiet = Fast with { AnnounceDelays = [TimeSpan.Zero], QueryInitialInterval = TimeSpan.FromMinutes(10) };

    private static readonly DnsName ServiceType = DnsName.Parse("_example-net._tcp.local");

    private readonly MdnsFabric _fabric = new();
    private readonly List<TestNode> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (TestNode node in _nodes)
        {
            await node.Discovery.DisposeAsync().AsTask().DefaultTimeout();
            Assert.Empty(node.Logs.Errors);
        }
    }

    [Fact]
    public async Task Two_nodes_find_each_other_and_only_the_lower_id_dials()
    {
        (NodeId low, NodeId high) = TwoIds();
        TestNode a = await StartAsync(low, 1, port: 4001);
        TestNode b = await StartAsync(high, 2, port: 4002);

        await TaskTimeoutExtensions.WaitUntilAsync(() => a.Discovery.Peers.Count == 1 && b.Discovery.Peers.Count == 1 && !a.Added.IsEmpty);
        await TaskTimeoutExtensions.ExpectNothingAsync();

        Assert.Equal(new DnsEndPoint("10.0.0.2", 4002), Assert.Single(a.Added));
        Assert.Empty(b.Added);
        MdnsPeer seenByA = Assert.Single(a.Discovery.Peers);
        Assert.Equal(high, seenByA.NodeId);
        Assert.True(seenByA.IsCompatible);
        Assert.Equal("tls", seenByA.Security);
        Assert.Equal($"{high}._example-net._tcp.local", seenByA.InstanceName);
        MdnsPeer seenByB = Assert.Single(b.Discovery.Peers);
        Assert.Equal(low, seenByB.NodeId);
        Assert.Equal(4001, seenByB.Port);
        Assert.Equal([IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fe80::1%1")], seenByB.Addresses);
        await a.Found.Task.DefaultTimeout();
    }

    [Fact]
    public async Task An_id_with_leading_zero_bytes_keeps_its_order_through_the_instance_name()
    {
        // The string form drops leading zero bytes; read back as a 14-byte id it would sort after 0x01….
        byte[] lowBytes = new byte[16];
        lowBytes[2] = 0xFF;
        lowBytes[15] = 1;
        byte[] highBytes = new byte[16];
        highBytes[0] = 1;
        NodeId low = new(lowBytes);
        NodeId high = new(highBytes);
        TestNode a = await StartAsync(low, 1);
        TestNode b = await StartAsync(high, 2);

        await TaskTimeoutExtensions.WaitUntilAsync(() => a.Discovery.Peers.Count == 1 && b.Discovery.Peers.Count == 1 && !a.Added.IsEmpty);
        await TaskTimeoutExtensions.ExpectNothingAsync();

        Assert.Empty(b.Added);
        Assert.Equal(low, Assert.Single(b.Discovery.Peers).NodeId);
        Assert.Equal(high, Assert.Single(a.Discovery.Peers).NodeId);
    }

    [Fact]
    public async Task Goodbye_makes_the_other_side_lose_the_peer_and_remove_it()
    {
        (NodeId low, NodeId high) = TwoIds();
        TestNode a = await StartAsync(low, 1);
        TestNode b = await StartAsync(high, 2);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !a.Added.IsEmpty);

        await b.Discovery.StopAsync().AsTask().DefaultTimeout();

        await a.Lost.Task.DefaultTimeout(TimeSpan.FromSeconds(3));
        Assert.Empty(a.Discovery.Peers);
        Assert.Equal(Assert.Single(a.Added), Assert.Single(a.Removed));
        Assert.True(b.Transport.IsDisposed);
    }

    [Fact]
    public async Task A_peer_that_vanishes_without_goodbye_expires_with_its_ttl()
    {
        (NodeId low, NodeId high) = TwoIds();
        MdnsDiscoveryOptions shortTtl = Options() with { HostRecordTtl = TimeSpan.FromSeconds(2), OtherRecordTtl = TimeSpan.FromSeconds(2) };
        TestNode a = await StartAsync(low, 1, options: shortTtl);
        TestNode b = await StartAsync(high, 2, options: shortTtl);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !a.Added.IsEmpty);

        b.Transport.Detach();

        await a.Lost.Task.DefaultTimeout(TimeSpan.FromSeconds(4));
        Assert.Equal(Assert.Single(a.Added), Assert.Single(a.Removed));
    }

    [Fact]
    public async Task Refresh_queries_keep_a_short_lived_peer_alive()
    {
        (NodeId low, NodeId high) = TwoIds();
        MdnsDiscoveryOptions shortTtl = Options() with { HostRecordTtl = TimeSpan.FromSeconds(1), OtherRecordTtl = TimeSpan.FromSeconds(1) };
        TestNode a = await StartAsync(low, 1, options: shortTtl);
        TestNode b = await StartAsync(high, 2, options: shortTtl);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !a.Added.IsEmpty);

        // Past two and a half TTLs (the first records would have expired by then), with B's SRV arriving again all
        // along: only refreshes keep the peer.
        int answered = SrvAnswers(a);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await TaskTimeoutExtensions.WaitUntilAsync(() => clock.Elapsed > TimeSpan.FromSeconds(2.5) && SrvAnswers(a) >= answered + 3, TimeSpan.FromSeconds(15));

        Assert.False(a.Lost.Task.IsCompleted);
        Assert.Single(a.Discovery.Peers);
        Assert.Empty(a.Removed);
    }

    [Fact]
    public async Task A_query_that_lists_our_ptr_with_its_full_ttl_gets_no_answer()
    {
        TestNode b = await StartAsync(NodeId.NewId(), 2, options: Options(Quiet) with { Browse = false });
        FabricTransport prober = await ProberAsync();
        await prober.WaitForAsync(p => p.Message!.IsResponse && p.Message.Answers.Any(r => r.Type == DnsRecordType.Ptr));
        DnsRecord ptr = new() { Name = ServiceType, Ttl = 4500, Data = new DnsPtrData(ServiceType.Prepend(b.Id.ToString())) };
        prober.Clear();

        await prober.SendMulticastAsync(new DnsMessage { Questions = [PtrQuestion()], Answers = [ptr] });
        await TaskTimeoutExtensions.ExpectNothingAsync();
        Assert.DoesNotContain(prober.ReceivedPackets, p => p.Message is { IsResponse: true });

        // A known answer with less than half the TTL left does not suppress it.
        await prober.SendMulticastAsync(new DnsMessage { Questions = [PtrQuestion()], Answers = [ptr with { Ttl = 2000 }] });
        FabricPacket answer = await prober.WaitForAsync(p => p.Message!.IsResponse);
        Assert.False(answer.Unicast);
        Assert.Equal(ptr.Data, Assert.Single(answer.Message!.Answers).Data);
        // RFC 6763 §12: SRV, TXT and the addresses of the interface come as additionals.
        Assert.Contains(answer.Message.Additionals, r => r.Data is DnsSrvData { Port: 4000 });
        Assert.Contains(answer.Message.Additionals, r => r.Data is DnsTxtData txt && Encoding.UTF8.GetString(txt.GetProperties()["security"]!.Value.Span) == "tls");
        Assert.Contains(answer.Message.Additionals, r => r.Data is DnsAddressData a && a.Address.Equals(IPAddress.Parse("10.0.0.2")));
    }

    [Fact]
    public async Task A_question_with_the_unicast_response_bit_is_answered_by_unicast()
    {
        TestNode b = await StartAsync(NodeId.NewId(), 2, options: Options(Quiet) with { Browse = false });
        FabricTransport prober = await ProberAsync();
        await prober.WaitForAsync(p => p.Message!.IsResponse);
        prober.Clear();

        await prober.SendMulticastAsync(new DnsMessage { Questions = [PtrQuestion() with { UnicastResponse = true }] });

        FabricPacket answer = await prober.WaitForAsync(p => p.Message!.IsResponse);
        Assert.True(answer.Unicast);
        Assert.Equal(5353, answer.Packet.Source.Port);
        Assert.Equal(ServiceType.Prepend(b.Id.ToString()), ((DnsPtrData)Assert.Single(answer.Message!.Answers).Data).Target);
    }

    [Fact]
    public async Task A_legacy_query_is_answered_by_unicast_with_its_id_its_questions_and_short_ttls()
    {
        TestNode b = await StartAsync(NodeId.NewId(), 2, options: Options(Quiet) with { Browse = false });
        FabricTransport legacy = await ProberAsync(port: 40000);
        var question = new DnsQuestion { Name = ServiceType.Prepend(b.Id.ToString()), Type = DnsRecordType.Srv };
        await TaskTimeoutExtensions.WaitUntilAsync(() => b.Discovery.InstanceName is not null);
        await b.Transport.WaitForAsync(p => p.Message!.IsResponse);   // announced

        await legacy.SendMulticastAsync(new DnsMessage { Id = 0x1234, Questions = [question] });

        FabricPacket answer = await legacy.WaitForAsync(p => p.Message!.IsResponse);
        Assert.True(answer.Unicast);
        Assert.Equal(0x1234, answer.Message!.Id);
        Assert.Equal(question, Assert.Single(answer.Message.Questions));
        DnsRecord srv = Assert.Single(answer.Message.Answers);
        Assert.Equal(4000, ((DnsSrvData)srv.Data).Port);
        Assert.All(answer.Message.Answers.Concat(answer.Message.Additionals), r =>
        {
            Assert.True(r.Ttl <= 10);
            Assert.False(r.CacheFlush);
        });
    }

    [Fact]
    public async Task The_javascript_announcement_yields_an_incompatible_peer_that_is_never_dialled()
    {
        // The lowest possible id: only the missing TXT can stop it from dialling.
        TestNode browser = await StartAsync(new NodeId(new byte[16]), 1, port: 0);
        FabricTransport js = await ProberAsync();
        byte[] announcement = Vectors.Hex(Vectors.Get("mdns/announce").GetProperty("packet").GetProperty("hex").GetString()!);

        await js.SendMulticastAsync(announcement);
        await browser.Found.Task.DefaultTimeout();
        await js.SendMulticastAsync(announcement);
        await TaskTimeoutExtensions.ExpectNothingAsync();

        MdnsPeer peer = Assert.Single(browser.Discovery.Peers);
        Assert.Equal(NodeId.Parse("wluWCJp6bvtVhn0yaaTeM"), peer.NodeId);
        Assert.False(peer.IsCompatible);
        Assert.Null(peer.Security);
        Assert.Equal(43210, peer.Port);
        Assert.Equal([IPAddress.Parse("192.168.1.10"), IPAddress.Parse("fe80::1%1")], peer.Addresses);
        Assert.Empty(browser.Added);
        Assert.Single(browser.Logs.Entries, e => e.EventId.Id == 116 && e.Level == LogLevel.Information);
        // Port 0: the browser publishes nothing.
        Assert.DoesNotContain(js.ReceivedPackets, p => p.Message is { IsResponse: true } && p.Packet.Source.Address.Equals(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public async Task A_tls_node_lists_but_never_dials_a_plaintext_peer()
    {
        (NodeId low, NodeId high) = TwoIds();
        TestNode tls = await StartAsync(low, 1);
        TestNode plain = await StartAsync(high, 2, isTls: false);

        await TaskTimeoutExtensions.WaitUntilAsync(() => tls.Discovery.Peers.Count == 1 && plain.Discovery.Peers.Count == 1);
        await TaskTimeoutExtensions.ExpectNothingAsync();

        MdnsPeer peer = Assert.Single(tls.Discovery.Peers);
        Assert.Equal("none", peer.Security);
        Assert.False(peer.IsCompatible);
        Assert.False(Assert.Single(plain.Discovery.Peers).IsCompatible);
        Assert.Empty(tls.Added);
        Assert.Empty(plain.Added);
    }

    [Fact]
    public async Task The_service_type_meta_query_is_answered_with_the_service_type()
    {
        await StartAsync(NodeId.NewId(), 2, options: Options(Quiet) with { Browse = false });
        FabricTransport prober = await ProberAsync();
        await prober.WaitForAsync(p => p.Message!.IsResponse);
        prober.Clear();
        DnsName services = DnsName.Parse("_services._dns-sd._udp.local");

        await prober.SendMulticastAsync(new DnsMessage { Questions = [new DnsQuestion { Name = services, Type = DnsRecordType.Ptr }] });

        FabricPacket answer = await prober.WaitForAsync(p => p.Message!.IsResponse);
        DnsRecord record = Assert.Single(answer.Message!.Answers);
        Assert.Empty(answer.Message.Additionals);
        Assert.Equal(services, record.Name);
        Assert.Equal(ServiceType, ((DnsPtrData)record.Data).Target);
    }

    [Fact]
    public async Task Hostile_packets_are_logged_and_ignored()
    {
        (NodeId low, NodeId high) = TwoIds();
        TestNode a = await StartAsync(low, 1);
        FabricTransport attacker = await ProberAsync();
        var random = new Random(6762);
        byte[] announcement = Vectors.Hex(Vectors.Get("mdns/announce").GetProperty("packet").GetProperty("hex").GetString()!);
        for (int i = 0; i < 300; i++)
        {
            byte[] junk = new byte[random.Next(0, 600)];
            random.NextBytes(junk);
            await attacker.SendMulticastAsync(junk);

            // Truncated and bit-flipped real packets get past the header checks.
            byte[] damaged = announcement[..random.Next(12, announcement.Length)];
            damaged[random.Next(12, damaged.Length)] ^= (byte)(1 << random.Next(8));
            await attacker.SendMulticastAsync(damaged);
        }

        TestNode b = await StartAsync(high, 2);
        await TaskTimeoutExtensions.WaitUntilAsync(() => a.Discovery.Peers.Any(p => p.NodeId == high) && !a.Added.IsEmpty);

        Assert.Contains(a.Logs.Entries, e => e.EventId.Id == 111);
        Assert.DoesNotContain(a.Logs.Entries, e => e.Level >= LogLevel.Warning && e.EventId.Id != 116);
    }

    [Fact]
    public async Task A_conflicting_answer_while_probing_makes_the_responder_pick_a_new_name()
    {
        NodeId id = NodeId.NewId();
        DnsName instance = ServiceType.Prepend(id.ToString());
        FabricTransport owner = await ProberAsync();

        // Someone else already holds the name: it answers our first probe with its own SRV.
        TestNode b = await StartAsync(id, 2, timings: Fast with { ProbeInterval = TimeSpan.FromMilliseconds(100) });
        await owner.WaitForAsync(p => !p.Message!.IsResponse && p.Message.Questions.Any(q => q.Name == instance));
        await owner.SendMulticastAsync(new DnsMessage
        {
            Flags = DnsFlags.Response | DnsFlags.Authoritative,
            Answers = [new DnsRecord { Name = instance, CacheFlush = true, Ttl = 120, Data = new DnsSrvData(0, 0, 9999, DnsName.Parse("other.local")) }],
        });

        DnsName renamed = ServiceType.Prepend($"{id} (2)");
        FabricPacket announced = await owner.WaitForAsync(p => p.Message!.IsResponse && p.Message.Answers.Any(r => r.Data is DnsPtrData ptr && ptr.Target == renamed));
        Assert.DoesNotContain(owner.ReceivedPackets, p => p.Message is { IsResponse: true } && p.Message.Answers.Any(r => r.Data is DnsPtrData ptr && ptr.Target == instance));
        Assert.Equal(renamed.ToString(), b.Discovery.InstanceName);
        Assert.Contains(b.Logs.Entries, e => e.EventId.Id == 112 && e.Level == LogLevel.Warning);

        // A browser still reads the node id from the renamed instance.
        TestNode a = await StartAsync(NodeId.NewId(), 1, port: 0);
        await TaskTimeoutExtensions.WaitUntilAsync(() => a.Discovery.Peers.Any(p => p.InstanceName == renamed.ToString()));
        Assert.Equal(id, a.Discovery.Peers.Single(p => p.InstanceName == renamed.ToString()).NodeId);
        Assert.NotNull(announced);
    }

    [Fact]
    public async Task A_new_address_is_announced_and_the_dialled_endpoint_follows_it()
    {
        (NodeId low, NodeId high) = TwoIds();
        TestNode a = await StartAsync(low, 1);
        TestNode b = await StartAsync(high, 2);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !a.Added.IsEmpty);

        b.Transport.SetInterfaces(new FabricInterface(1, "lan", IPAddress.Parse("10.0.0.22"), IPAddress.Parse("fe80::2")));

        await TaskTimeoutExtensions.WaitUntilAsync(() => a.Added.Contains(new DnsEndPoint("10.0.0.22", 4000)));
        Assert.Equal(new DnsEndPoint("10.0.0.2", 4000), Assert.Single(a.Removed));
        Assert.Equal(IPAddress.Parse("10.0.0.22"), Assert.Single(a.Discovery.Peers).Addresses[0]);
    }

    [Fact]
    public async Task Browse_queries_carry_known_answers_and_back_off()
    {
        TestNode b = await StartAsync(NodeId.NewId(), 2);
        FabricTransport observer = await ProberAsync();
        TestNode a = await StartAsync(NodeId.NewId(), 1, port: 0);
        await TaskTimeoutExtensions.WaitUntilAsync(() => a.Discovery.Peers.Count > 0);

        // The query after the peer was found lists its PTR as a known answer.
        FabricPacket query = await observer.WaitForAsync(p => !p.Message!.IsResponse
            && p.Packet.Source.Address.Equals(IPAddress.Parse("10.0.0.1"))
            && p.Message.Questions.Any(q => q.Name == ServiceType)
            && p.Message.Answers.Count > 0);
        DnsRecord known = Assert.Single(query.Message!.Answers);
        Assert.Equal(ServiceType.Prepend(b.Id.ToString()), ((DnsPtrData)known.Data).Target);
        Assert.True(known.Ttl > 4500 / 2);
    }

    private static (NodeId Low, NodeId High) TwoIds()
    {
        NodeId x = NodeId.NewId();
        NodeId y = NodeId.NewId();
        return x.CompareTo(y) < 0 ? (x, y) : (y, x);
    }

    private static DnsQuestion PtrQuestion() => new() { Name = ServiceType, Type = DnsRecordType.Ptr };

    private static MdnsDiscoveryOptions Options(MdnsTimings? timings = null) => new() { HostName = "host", Timings = timings ?? Fast };

    private async Task<FabricTransport> ProberAsync(int port = 5353)
    {
        FabricTransport prober = _fabric.CreateMember(port, new FabricInterface(1, "lan", IPAddress.Parse("10.0.0.99"), IPAddress.Parse("fe80::99")));
        await prober.StartAsync();
        return prober;
    }

    private async Task<TestNode> StartAsync(NodeId id, int host, int port = 4000, bool isTls = true, MdnsDiscoveryOptions? options = null, MdnsTimings? timings = null)
    {
        FabricTransport transport = _fabric.CreateMember(new FabricInterface(1, "lan", IPAddress.Parse($"10.0.0.{host}"), IPAddress.Parse($"fe80::{host}")));
        var node = new TestNode(id, transport, new MdnsDiscovery((options ?? Options(timings)) with { HostName = $"host{host}" }, _ => transport));
        _nodes.Add(node);
        var context = new TcpDiscoveryContext(id, Network, isTls, node.Logs, () => port, node.Added.Enqueue, node.Removed.Enqueue);
        await node.Discovery.StartAsync(context).AsTask().DefaultTimeout();
        return node;
    }

    private static int SrvAnswers(TestNode node) =>
        node.Transport.ReceivedPackets.Count(p => p.Message is { IsResponse: true } m && m.Answers.Concat(m.Additionals).Any(r => r.Type == DnsRecordType.Srv && r.Ttl > 0));

    private sealed class TestNode
    {
        public TestNode(NodeId id, FabricTransport transport, MdnsDiscovery discovery)
        {
            Id = id;
            Transport = transport;
            Discovery = discovery;
            discovery.PeerFound += (_, _) => Found.TrySetResult();
            discovery.PeerLost += (_, _) => Lost.TrySetResult();
        }

        public NodeId Id { get; }

        public FabricTransport Transport { get; }

        public MdnsDiscovery Discovery { get; }

        public TestLoggerFactory Logs { get; } = new();

        public ConcurrentQueue<DnsEndPoint> Added { get; } = new();

        public ConcurrentQueue<DnsEndPoint> Removed { get; } = new();

        public TaskCompletionSource Found { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Lost { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
