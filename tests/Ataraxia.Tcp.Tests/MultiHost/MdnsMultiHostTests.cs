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
        await using NodeTrio mesh = await StartMeshAsync();
        await mesh.A.SendAsync(mesh.C, "greeting", "hello from A");
        Assert.Equal("hello from A", (string?)(await mesh.C.WaitForMessageAsync(mesh.A, "greeting"))["text"]);
        Assert.Equal([mesh.B.Id, mesh.C.Id], await mesh.A.NodesAsync());
        mesh.AssertNoErrors();
    }

    [NamespaceFact]
    public async Task A_node_that_leaves_is_unavailable_at_the_others_promptly()
    {
        await using NodeTrio mesh = await StartMeshAsync();
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
        await using NodeTrio mesh = await StartMeshAsync("--mdns-ttl", "3");
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
        await using NodeTrio mesh = await StartMeshAsync("--ping-interval", "300", "--ping-check-interval", "100", "--ping-timeout", "2000");
        int mark = mesh.A.Mark;
        await mesh.B.Host.CutLinkAsync();
        await mesh.A.WaitForUnavailableAsync(mesh.B, mark, TimeSpan.FromSeconds(10));
        mesh.A.AssertNoErrors();
    }

    /// <summary>A, B and C, each discovering the others by mDNS on its own eth0 only (no manual peers).</summary>
    private static Task<NodeTrio> StartMeshAsync(params string[] arguments) => NodeTrio.StartAsync(hosts =>
    {
        string[] names = ["A", "B", "C"];
        return Task.WhenAll(hosts.Select((host, i) => NodeProcess.StartAsync(
            host, names[i], ["--mdns-interface", host.Interface, "--mdns-host-name", host.Namespace, .. arguments])));
    });
}
