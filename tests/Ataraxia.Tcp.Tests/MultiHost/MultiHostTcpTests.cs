using System.Diagnostics;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.MultiHost;

/// <summary>
/// Three nodes, each in a network namespace of its own on a private bridge, connected over TCP+TLS in a line
/// A–B–C by manual peers (A and C dial B on its bridge address). They prove the namespace fixture and the node
/// runner that the mDNS tests build on: the same scenarios with <c>--mdns-interface eth0</c> instead of
/// <c>--peer</c> are the mDNS multi-host tests.
/// </summary>
[Trait("Category", "Integration")]
public sealed class MultiHostTcpTests
{
    /// <summary>How soon a departure must be noticed when the TCP connection ends (BYE, FIN or RST).</summary>
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(5);

    [NamespaceFact]
    public async Task Nodes_in_three_namespaces_connect_over_tls_and_route_through_the_middle()
    {
        await using NodeTrio line = await StartLineAsync();

        await line.A.SendAsync(line.C, "greeting", "hello from A");
        Assert.Equal("hello from A", (string?)(await line.C.WaitForMessageAsync(line.A, "greeting"))["text"]);
        await line.C.SendAsync(line.A, "reply", "hello from C");
        Assert.Equal("hello from C", (string?)(await line.A.WaitForMessageAsync(line.C, "reply"))["text"]);

        Assert.Equal([line.B.Id, line.C.Id], await line.A.NodesAsync());
        Assert.Equal([line.A.Id, line.B.Id], await line.C.NodesAsync());
        line.AssertNoErrors();
    }

    [NamespaceFact]
    public async Task A_node_that_leaves_is_unavailable_at_the_others_promptly()
    {
        await using NodeTrio line = await StartLineAsync();
        int mark = line.A.Mark;
        var clock = Stopwatch.StartNew();

        await line.B.LeaveAsync();

        // Default pings (30 s): only the goodbye (BYE, then the closed connections) can make this prompt. C was
        // reachable only through B.
        await line.A.WaitForUnavailableAsync(line.B, mark, Promptly);
        await line.A.WaitForUnavailableAsync(line.C, mark, Promptly);
        Assert.True(clock.Elapsed < Promptly, $"B's departure took {clock.Elapsed} to reach A.");
        await Assert.ThrowsAsync<InvalidOperationException>(() => line.A.SendAsync(line.C, "greeting", "lost"));
        line.AssertNoErrors();
    }

    [NamespaceFact]
    public async Task A_killed_node_is_unavailable_at_the_others_promptly()
    {
        await using NodeTrio line = await StartLineAsync();
        int markA = line.A.Mark;
        int markC = line.C.Mark;

        // SIGKILL: no BYE, but the kernel still closes B's sockets, so A sees the connection end.
        await line.B.KillAsync();

        await line.A.WaitForUnavailableAsync(line.B, markA, Promptly);
        await line.C.WaitForUnavailableAsync(line.B, markC, Promptly);
        line.A.AssertNoErrors();
        line.C.AssertNoErrors();
    }

    [NamespaceFact]
    public async Task A_node_cut_off_the_network_is_unavailable_at_the_others_after_the_ping_timeout()
    {
        // Fast pings so that silence is noticed in about a second instead of the default 30-90 s.
        string[] pings = ["--ping-interval", "300", "--ping-check-interval", "100", "--ping-timeout", "2000"];
        await using NodeTrio line = await StartLineAsync(pings);
        int mark = line.A.Mark;
        var clock = Stopwatch.StartNew();

        // Unplug B at the switch: no FIN, no RST, nothing at all reaches A any more; only the pings tell.
        await line.B.Host.CutLinkAsync();

        await line.A.WaitForUnavailableAsync(line.B, mark, TimeSpan.FromSeconds(10));
        await line.A.WaitForUnavailableAsync(line.C, mark, TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(300), $"A gave up on B after {clock.Elapsed}, sooner than one ping interval.");
        line.A.AssertNoErrors();
    }

    /// <summary>A–B–C: A and C dial B on its bridge address, so A and C reach each other only through B.</summary>
    private static Task<NodeTrio> StartLineAsync(params string[] arguments) => NodeTrio.StartAsync(async hosts =>
    {
        NodeProcess b = await NodeProcess.StartAsync(hosts[1], "B", arguments);
        try
        {
            string[] toB = ["--peer", b.EndPoint, .. arguments];
            NodeProcess[] ends = await Task.WhenAll(NodeProcess.StartAsync(hosts[0], "A", toB), NodeProcess.StartAsync(hosts[2], "C", toB));
            return [ends[0], b, ends[1]];
        }
        catch
        {
            await b.DisposeAsync();
            throw;
        }
    });
}
