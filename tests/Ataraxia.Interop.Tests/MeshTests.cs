using System.Collections;
using System.Reflection;
using System.Text.Json.Nodes;
using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Scenario 4: a mixed mesh of three C# and three JavaScript nodes in a ring with one chord, over plain TCP and
/// WebSockets: everyone sees everyone; a JavaScript node that routes for others is killed and the routes heal;
/// a new JavaScript process takes its place and is seen everywhere.
/// </summary>
[Collection(JsNodeTests.Name)]
[Trait("Category", "Integration")]
public sealed class MeshTests(ITestOutputHelper output) : InteropTest(output)
{
    // Ring c0 – c1 – j0 – j1 – c2 – j2 – c0, chord c0 – j1. Indexes: c0 0, c1 1, c2 2, j0 3, j1 4, j2 5.
    // Connector → listener, over which transport; every pair of kinds and both transports appear.
    private static readonly Link[] Links =
    [
        new(0, 1, "tcp"), // C# → C#
        new(3, 1, "tcp"), // JavaScript → C#
        new(3, 4, "ws"),  // JavaScript → JavaScript
        new(2, 4, "ws"),  // C# → JavaScript
        new(2, 5, "tcp"), // C# → JavaScript
        new(5, 0, "tcp"), // JavaScript → C#
        new(0, 4, "tcp"), // the chord, C# → JavaScript
    ];

    [JsFact]
    public async Task MixedRing_KillAndRestartJsNode_RoutesHeal()
    {
        var members = new Member[6];
        DotNetNode[] dotNet = await Task.WhenAll(StartDotNetAsync("c0"), StartDotNetAsync("c1"), StartDotNetAsync("c2"));
        JsNode[] js = await Task.WhenAll(StartListeningJsAsync("j0"), StartListeningJsAsync("j1"), StartListeningJsAsync("j2"));
        for (int i = 0; i < 3; i++)
        {
            members[i] = new Member(dotNet[i], null);
            members[i + 3] = new Member(null, js[i]);
        }

        _all = members;
        foreach (Link link in Links)
        {
            await LinkAsync(members, link);
        }

        await EventuallyAsync(() => VisibilityProblemAsync(members));
        Note("all six nodes see the other five");

        // Round 1: every node to every other node. Some JavaScript node must route for others: every path between
        // c1 and c2 passes one.
        await ExchangeAllPairsAsync(members, round: 1);
        Dictionary<int, HashSet<(string Source, string Target)>> forwarded = [];
        for (int i = 3; i < 6; i++)
        {
            JsNode node = members[i].Js!;
            forwarded[i] = [.. node.Events
                .Where(e => IsTrace(e, "in", "Data") && ((string?)e["dataType"])!.StartsWith("mesh:1:", StringComparison.Ordinal) && (string?)e["target"] != node.IdHex)
                .Select(e => ((string)e["source"]!, (string)e["target"]!))];
            Note($"{members[i].Name} forwarded {forwarded[i].Count} messages");
        }

        int victimIndex = forwarded.MaxBy(f => f.Value.Count).Key;
        Member victim = members[victimIndex];
        Assert.True(forwarded[victimIndex].Count > 0, $"No JavaScript node routed for others\n{Transcripts()}");
        string routedThrough = string.Join(", ", forwarded[victimIndex].Select(p => $"{NameOf(members, p.Source)}->{NameOf(members, p.Target)}"));
        Note($"killing {victim.Name}, which routed {routedThrough}");

        // Kill it: no BYE, its sockets just close.
        await KillAsync(victim.Js!);
        Member[] survivors = [.. members.Where(m => m != victim)];
        foreach (Member member in survivors)
        {
            if (member.DotNet is { } node)
            {
                await node.WaitForNodeGoneAsync(victim.Id);
            }
            else
            {
                await member.Js!.WaitForEventAsync(e => JsNode.Is(e, "unavailable") && (string?)e["id"] == victim.IdHex);
            }
        }

        await EventuallyAsync(() => VisibilityProblemAsync(survivors));
        Note($"the five others saw {victim.Name} go and see each other");

        // Round 2: every pair again, including those that went through the dead node.
        await ExchangeAllPairsAsync(survivors, round: 2);
        Note($"round 2 delivered, including {routedThrough} around the dead node");

        // A new process (new node id) takes the dead node's place in the ring.
        JsNode restarted = await StartListeningJsAsync(victim.Name + "-restarted");
        members[victimIndex] = new Member(null, restarted);
        foreach (Link link in Links.Where(l => l.Connector == victimIndex || l.Listener == victimIndex))
        {
            await LinkAsync(members, link);
        }

        await EventuallyAsync(() => VisibilityProblemAsync(members));
        Note($"{restarted.Name} ({restarted.IdHex}) is available everywhere, {victim.IdHex} nowhere");

        await ExchangeAllPairsAsync(members, round: 3, involving: members[victimIndex]);
        AssertHealthy();
    }

    private async Task<JsNode> StartListeningJsAsync(string name)
    {
        JsNode node = await StartJsAsync(name);
        await node.ListenAsync();
        await node.ListenWebSocketAsync();
        return node;
    }

    private static async Task LinkAsync(Member[] members, Link link)
    {
        Member connector = members[link.Connector];
        Member listener = members[link.Listener];
        int port = (listener.Js, link.Transport) switch
        {
            ({ } js, "ws") => js.WebSocketPort,
            ({ } js, _) => js.TcpPort,
            (null, "tcp") => listener.DotNet!.Plain.Port,
            _ => throw new InvalidOperationException("C# nodes do not accept WebSockets in these tests."),
        };

        switch (connector.DotNet, link.Transport)
        {
            case ({ } node, "ws"):
                await node.ConnectWebSocketAsync(port);
                break;
            case ({ } node, _):
                await node.ConnectAsync(port);
                break;
            case (null, "ws"):
                await connector.Js!.ConnectWebSocketAsync(port);
                break;
            default:
                await connector.Js!.ConnectAsync(port);
                break;
        }

        await WaitForDirectAsync(connector, listener);
        await WaitForDirectAsync(listener, connector);
    }

    private static Task WaitForDirectAsync(Member observer, Member other) =>
        observer.DotNet is { } node ? node.WaitForNodeAsync(other.Id) : observer.Js!.WaitForAvailableAsync(other.Id);

    /// <summary>Describes the first member whose view differs from "every other listed member", or returns null.</summary>
    private static async Task<string?> VisibilityProblemAsync(IReadOnlyList<Member> alive)
    {
        foreach (Member member in alive)
        {
            HashSet<string> expected = [.. alive.Where(m => m != member).Select(m => m.IdHex)];
            HashSet<string> seen = member.DotNet is { } node
                ? [.. node.Network.Nodes.Select(n => Hex(n.Id))]
                : await member.Js!.NodesAsync();
            if (!seen.SetEquals(expected))
            {
                return $"{member.Name} sees {Describe(seen.Select(id => NameOf(alive, id)))}, expected {Describe(expected.Select(id => NameOf(alive, id)))}";
            }
        }

        return null;
    }

    /// <summary>Sends one message between every ordered pair (all at once) and waits until each arrived from the right node.</summary>
    private async Task ExchangeAllPairsAsync(IReadOnlyList<Member> alive, int round, Member? involving = null)
    {
        List<(Member From, Member To, string Type)> pairs = [];
        foreach (Member from in alive)
        {
            foreach (Member to in alive)
            {
                if (from != to && (involving is null || from == involving || to == involving))
                {
                    pairs.Add((from, to, $"mesh:{round}:{from.Name}->{to.Name}"));
                }
            }
        }

        List<string> retried = [];
        await Task.WhenAll(pairs.Select(p => SendWithRetriesAsync(p.From, p.To, p.Type, round, retried)));
        foreach ((Member from, Member to, string type) in pairs)
        {
            if (to.DotNet is { } node)
            {
                Message message = await node.WaitForMessageAsync(type);
                Assert.Equal(from.Id, message.Source.Id);
                Assert.Equal(from.Name, message.Data.AsMap()["from"].AsString());
            }
            else
            {
                JsonObject message = await to.Js!.WaitForMessageAsync(type);
                Assert.Equal(from.IdHex, (string?)message["from"]);
                Assert.Equal(from.Name, (string?)message["data"]!["from"]);
            }
        }

        Note($"round {round}: {pairs.Count} messages delivered" + (retried.Count == 0 ? string.Empty : $"; resent after a rejection: {string.Join(", ", retried)}"));
    }

    /// <summary>
    /// Sends, and sends again while a hop rejects the message or no route exists yet, for at most 10 s. Routing
    /// tables converge some time after the visible topology does, and neither language retransmits (WIRE.md §7):
    /// in that window two nodes with different views can each route through the other and the loop check rejects
    /// the message (§7.2). A C# node widens the window, because it recomputes routes only on its 100 ms broadcast
    /// timer while JavaScript recomputes before every send and forward (§9.5). A rejected message was not
    /// delivered, so resending cannot duplicate it.
    /// </summary>
    private async Task SendWithRetriesAsync(Member from, Member to, string type, int round, List<string> retried)
    {
        int rejections = 0;
        await EventuallyAsync(
            async () =>
            {
                try
                {
                    await SendAsync(from, to, type, round);
                    return null;
                }
                catch (MessageDeliveryException ex) when (ex.Failure is MessageDeliveryFailure.Rejected or MessageDeliveryFailure.NoRoute)
                {
                    DiagnoseSome(++rejections, to, type);
                    return $"{type}: {ex.Message}";
                }
                catch (InvalidOperationException ex) when (ex.Message.Contains("Could not forward message", StringComparison.Ordinal))
                {
                    DiagnoseSome(++rejections, to, type);
                    return $"{type}: {ex.Message.Split('\n')[0]}";
                }
            },
            TimeSpan.FromSeconds(10));
        if (rejections > 0)
        {
            lock (retried)
            {
                retried.Add($"{type} ×{rejections}");
            }
        }
    }

    private Member[]? _all;

    // The first rejection of a send shows the transient case, the 20th (about 1 s later) a lasting one.
    private void DiagnoseSome(int rejection, Member to, string type)
    {
        if (rejection is 1 or 20)
        {
            Diagnose(to, type);
        }
    }

    /// <summary>
    /// On a rejection, writes what each C# node routes towards the target: the next hop it uses (its route table
    /// is recomputed on the broadcast timer) and the one a fresh computation gives, and its whole topology table.
    /// Reads Core internals by reflection, for diagnosis only: it never fails the test.
    /// </summary>
    private void Diagnose(Member to, string type)
    {
        const BindingFlags flags = BindingFlags.NonPublic | BindingFlags.Instance;
        try
        {
            foreach (Member member in _all!.Where(m => m.DotNet is not null))
            {
                Network network = member.DotNet!.Network;
                object gate = typeof(Network).GetField("_gate", flags)!.GetValue(network)!;
                object topology = typeof(Network).GetField("_topology", flags)!.GetValue(network)!;
                object? cached = typeof(Network).GetMethod("GetNextHop", flags)!.Invoke(network, [to.Id]);
                var table = new List<string>();
                object? fresh;
                lock (gate)
                {
                    var routes = (IDictionary)topology.GetType().GetMethod("ComputeRoutes")!.Invoke(topology, null)!;
                    fresh = routes.Contains(to.Id) ? routes[to.Id]!.GetType().GetProperty("RemoteId")!.GetValue(routes[to.Id]) : null;
                    foreach (DictionaryEntry entry in (IDictionary)topology.GetType().GetField("_nodes", flags)!.GetValue(topology)!)
                    {
                        object node = entry.Value!;
                        object version = node.GetType().GetProperty("Version")!.GetValue(node)!;
                        IEnumerable<NodeNeighbour> edges = ((IEnumerable)node.GetType().GetProperty("Edges")!.GetValue(node)!).Cast<NodeNeighbour>();
                        IEnumerable<NodeId> via = ((IEnumerable)node.GetType().GetProperty("ReachableVia")!.GetValue(node)!).Cast<NodeId>();
                        table.Add($"{NameOf(_all!, Hex((NodeId)entry.Key))} v{version} [{string.Join(",", edges.Select(e => $"{NameOf(_all!, Hex(e.Id))}:{e.Latency}"))}] via {string.Join(",", via.Select(v => NameOf(_all!, Hex(v))))}");
                    }
                }

                Note($"rejected {type}: {member.Name} routes to {to.Name} via {(cached is NodeId c ? NameOf(_all!, Hex(c)) : "-")} (fresh: {(fresh is NodeId f ? NameOf(_all!, Hex(f)) : "-")}); table {string.Join(" | ", table)}");
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Note($"rejected {type}: no route diagnostics ({ex.GetType().Name}: {ex.Message})");
        }
    }

    private static async Task SendAsync(Member from, Member to, string type, int round)
    {
        var payload = new CborMap { ["from"] = from.Name, ["to"] = to.Name, ["round"] = round };
        if (from.DotNet is { } node)
        {
            Assert.True(node.Network.TryGetNode(to.Id, out Node? target), $"{from.Name} does not see {to.Name}");
            await target.SendAsync(type, payload).DefaultTimeout();
        }
        else
        {
            await from.Js!.SendAsync(to.Id, type, CborJson.ToJson(payload));
        }
    }

    private static string NameOf(IReadOnlyList<Member> members, string idHex) =>
        members.FirstOrDefault(m => m.IdHex == idHex)?.Name ?? idHex;

    private sealed record Link(int Connector, int Listener, string Transport);

    private sealed record Member(DotNetNode? DotNet, JsNode? Js)
    {
        public NodeId Id => DotNet?.Id ?? Js!.Id;

        public string IdHex => Hex(Id);

        public string Name => DotNet?.Name ?? Js!.Name;
    }
}
