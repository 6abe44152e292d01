using System.Diagnostics;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.MultiHost;

/// <summary>
/// Three nodes in three network namespaces on one private bridge, with mDNS discovery only (no manual peers): they
/// find each other, connect over TCP+TLS and exchange messages, and notice a node that leaves, dies or drops off.
/// </summary>
[Trait("Category", "Integration")]
public sealed class MdnsMultiHostTests
{
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(5);

    [NamespaceFact]
    public async Task Nodes_find_each_other_by_mdns_and_exchange_messages_over_tls()
    {
        await using Mesh mesh = await Mesh.StartAsync();
        await mesh.A.SendAsync(mesh.C, "greeting", "hello from A");
        Assert.Equal("hello from A", (string?)(await mesh.C.WaitForMessageAsync(mesh.A, "greeting"))["text"]);
        Assert.Equal([mesh.B.Id, mesh.C.Id], await mesh.A.NodesAsync());
        mesh.AssertNoErrors();
    }

    [NamespaceFact]
    public async Task A_node_that_leaves_is_unavailable_at_the_others_promptly()
    {
        await using Mesh mesh = await Mesh.StartAsync();
        int mark = mesh.A.Mark;
        var clock = Stopwatch.StartNew();
        await mesh.B.LeaveAsync();
        await mesh.A.WaitForUnavailableAsync(mesh.B, mark, Promptly);
        Assert.True(clock.Elapsed < Promptly, $"B's departure took {clock.Elapsed} to reach A.");
        mesh.A.AssertNoErrors();
    }

    [NamespaceFact]
    public async Task A_killed_node_is_unavailable_at_the_others_and_its_records_expire()
    {
        // Short TTLs, so that records of a node that sent no goodbye expire within the test.
        await using Mesh mesh = await Mesh.StartAsync("--mdns-ttl", "3");
        int mark = mesh.A.Mark;
        await mesh.B.KillAsync();

        // The connection ends with the process; the discovery forgets B only when its records expire (no goodbye).
        await mesh.A.WaitForUnavailableAsync(mesh.B, mark, Promptly);
        var clock = Stopwatch.StartNew();
        await mesh.A.WaitForEventAsync(e => NodeProcess.Is(e, "mdns-lost") && (string?)e["id"] == mesh.B.Id, mark, TimeSpan.FromSeconds(15));
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(0.5), "B's records went away before their TTL could expire, so something sent a goodbye.");
        mesh.A.AssertNoErrors();
    }

    [NamespaceFact]
    public async Task A_node_cut_off_the_network_is_unavailable_after_the_ping_timeout()
    {
        await using Mesh mesh = await Mesh.StartAsync("--ping-interval", "300", "--ping-check-interval", "100", "--ping-timeout", "2000");
        int mark = mesh.A.Mark;
        await mesh.B.Host.CutLinkAsync();
        await mesh.A.WaitForUnavailableAsync(mesh.B, mark, TimeSpan.FromSeconds(10));
        mesh.A.AssertNoErrors();
    }

    /// <summary>A, B and C, each discovering the others by mDNS on its own eth0 only.</summary>
    private sealed class Mesh : IAsyncDisposable
    {
        private readonly NetworkNamespaces _lan;
        private readonly List<NodeProcess> _nodes = [];

        private Mesh(NetworkNamespaces lan) => _lan = lan;

        public NodeProcess A => _nodes[0];

        public NodeProcess B => _nodes[1];

        public NodeProcess C => _nodes[2];

        public static async Task<Mesh> StartAsync(params string[] arguments)
        {
            var mesh = new Mesh(await NetworkNamespaces.CreateAsync(3));
            try
            {
                string[] names = ["A", "B", "C"];
                mesh._nodes.AddRange(await Task.WhenAll(mesh._lan.Hosts.Select((host, i) => NodeProcess.StartAsync(
                    host, names[i], ["--mdns-interface", host.Interface, "--mdns-host-name", host.Namespace, .. arguments]))));
                foreach (NodeProcess node in mesh._nodes)
                {
                    foreach (NodeProcess other in mesh._nodes.Where(o => o != node))
                    {
                        await node.WaitForAvailableAsync(other);
                    }
                }

                return mesh;
            }
            catch
            {
                await mesh.DisposeAsync();
                throw;
            }
        }

        public void AssertNoErrors()
        {
            foreach (NodeProcess node in _nodes)
            {
                node.AssertNoErrors();
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                foreach (NodeProcess node in _nodes)
                {
                    await node.DisposeAsync();
                }
            }
            finally
            {
                await _lan.DisposeAsync();
            }
        }
    }
}
