using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Ataraxia.Cli.Commands;

/// <summary><c>ataraxia nodes</c>: join, wait a moment to learn the mesh, and print every reachable node with its route.</summary>
internal sealed class NodesCommand(MeshOptions mesh)
{
    private readonly Option<TimeSpan?> _wait = CommandOptions.Duration("--wait", TimeSpan.FromSeconds(2), "How long to learn the mesh before printing");
    private readonly Option<int?> _expect = CommandOptions.Count("--expect", 1, "count", "Print as soon as this many nodes are reachable (exit 1 if not within --wait)");

    public Command Build()
    {
        var command = new Command("nodes", "List the reachable nodes: id, how they are reached (direct or the next hop), hops and latency");
        command.Options.Add(_wait);
        command.Options.Add(_expect);
        command.SetAction(RunAsync);
        return command;
    }

    /// <summary>How a route reaches its node, in words.</summary>
    public static string Via(NodeRoute? route) => route switch
    {
        null => "unreachable",
        { IsDirect: true } => "direct",
        _ => $"via {route.NextHop}",
    };

    /// <summary>The reachable nodes in route order (direct peers first).</summary>
    public static List<(Node Node, NodeRoute? Route)> Routes(Network network) =>
        [.. network.Nodes
            .Select(n => (Node: n, Route: network.GetRoute(n.Id)))
            .OrderBy(r => r.Route?.Path.Count ?? int.MaxValue)
            .ThenBy(r => r.Node.Id)];

    /// <summary>The nodes as a terminal table.</summary>
    public static Table Table(Network network)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]Nodes[/] ({network.Nodes.Count} reachable)");
        table.AddColumn("Node").AddColumn("Reached").AddColumn(new TableColumn("Hops").RightAligned()).AddColumn(new TableColumn("Latency").RightAligned()).AddColumn("Transport");
        foreach ((Node node, NodeRoute? route) in Routes(network))
        {
            table.AddRow(
                node.Id.ToString(),
                route?.IsDirect == true ? "[green]direct[/]" : Markup.Escape(Via(route)),
                route?.Path.Count.ToString(CultureInfo.InvariantCulture) ?? "-",
                route is null ? "-" : Latency(route),
                Markup.Escape(route?.Transport ?? "-"));
        }

        return table;
    }

    private static string Latency(NodeRoute route) => $"{route.Latency.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms";

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        MeshSettings settings = mesh.Read(parse);
        TimeSpan wait = parse.GetValue(_wait) ?? TimeSpan.FromSeconds(2);
        int expect = parse.GetValue(_expect) ?? 0;
        var output = new Output(settings.Json);
        await using MeshNode node = MeshNode.Create(settings, endpoint: true);
        using var changed = new ChangeSignal();
        node.Network.NodeAvailable += (_, _) => changed.Set();
        await node.JoinAsync(output, announce: false, cancellationToken).ConfigureAwait(false);

        bool complete = true;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(wait);
            try
            {
                if (expect > 0)
                {
                    await changed.WaitUntilAsync(() => node.Network.Nodes.Count >= expect, deadline.Token).ConfigureAwait(false);
                }
                else
                {
                    await Task.Delay(Timeout.Infinite, deadline.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                complete = expect == 0;
            }
        }

        List<(Node Node, NodeRoute? Route)> routes = Routes(node.Network);
        if (output.Json)
        {
            foreach ((Node n, NodeRoute? route) in routes)
            {
                output.Event("node", new JsonObject
                {
                    ["id"] = n.Id.ToString(),
                    ["direct"] = route?.IsDirect,
                    ["nextHop"] = route?.NextHop.ToString(),
                    ["hops"] = route?.Path.Count,
                    ["latencyMs"] = route?.Latency.TotalMilliseconds,
                    ["transport"] = route?.Transport,
                });
            }
        }
        else if (output.Rich)
        {
            output.Render(Table(node.Network));
        }
        else if (routes.Count > 0)
        {
            foreach (string line in Output.Columns(
                ["NODE", "REACHED", "HOPS", "LATENCY", "TRANSPORT"],
                routes.Select(r => (IReadOnlyList<string>)[
                    r.Node.Id.ToString(),
                    Via(r.Route),
                    r.Route?.Path.Count.ToString(CultureInfo.InvariantCulture) ?? "-",
                    r.Route is null ? "-" : Latency(r.Route),
                    r.Route?.Transport ?? "-"])))
            {
                output.Line(line);
            }
        }

        if (routes.Count == 0)
        {
            output.Status($"No other node was reachable within {Duration.Format(wait)}.");
        }

        if (!complete)
        {
            throw CommandException.Timeout($"Only {routes.Count} of the {expect} expected nodes were reachable within {Duration.Format(wait)}.");
        }

        return ExitCodes.Success;
    }
}
