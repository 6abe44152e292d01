using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Ataraxia.Cbor;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ataraxia.Cli.Commands;

/// <summary><c>ataraxia listen</c>: join and show nodes appearing and disappearing and the messages this node receives, until Ctrl+C.</summary>
internal sealed class ListenCommand(MeshOptions mesh)
{
    private const int RecentEvents = 15;

    public Command Build()
    {
        var command = new Command("listen", "Join the mesh and show nodes coming and going and the messages this node receives, live, until Ctrl+C");
        command.SetAction(RunAsync);
        return command;
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        MeshSettings settings = mesh.Read(parse);
        var output = new Output(settings.Json);
        await using MeshNode node = MeshNode.Create(settings, endpoint: false);
        Channel<ListenEvent> events = Channel.CreateUnbounded<ListenEvent>(new UnboundedChannelOptions { SingleReader = true });
        node.Network.NodeAvailable += (_, e) => events.Writer.TryWrite(new ListenEvent(DateTimeOffset.Now, "node-available", e.Node.Id, null));
        node.Network.NodeUnavailable += (_, e) => events.Writer.TryWrite(new ListenEvent(DateTimeOffset.Now, "node-unavailable", e.Node.Id, null));
        node.Network.MessageReceived += (_, e) => events.Writer.TryWrite(new ListenEvent(DateTimeOffset.Now, "message", e.Message.Source.Id, e.Message));
        await node.JoinAsync(output, announce: !output.Rich, cancellationToken).ConfigureAwait(false);
        try
        {
            if (output.Rich)
            {
                await RunLiveAsync(node, events.Reader, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await foreach (ListenEvent e in events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    Write(output, node.Network, e);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: leave the mesh and end normally.
        }

        return ExitCodes.Success;
    }

    private static void Write(Output output, Network network, ListenEvent e)
    {
        string time = e.At.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        switch (e.Kind)
        {
            case "message":
                Message message = e.Message!;
                output.Event("message", new JsonObject { ["source"] = e.Node.ToString(), ["type"] = message.Type, ["data"] = Data(message) });
                if (!output.Json)
                {
                    output.Line($"{time} message {message.Type} from {e.Node}: {DataText(message)}");
                }

                break;
            case "node-available":
                NodeRoute? route = network.GetRoute(e.Node);
                output.Event(e.Kind, new JsonObject
                {
                    ["id"] = e.Node.ToString(),
                    ["direct"] = route?.IsDirect,
                    ["nextHop"] = route?.NextHop.ToString(),
                    ["hops"] = route?.Path.Count,
                });
                if (!output.Json)
                {
                    output.Line($"{time} + node {e.Node} available ({NodesCommand.Via(route)})");
                }

                break;
            default:
                output.Event(e.Kind, new JsonObject { ["id"] = e.Node.ToString() });
                if (!output.Json)
                {
                    output.Line($"{time} - node {e.Node} unavailable");
                }

                break;
        }
    }

    private static async Task RunLiveAsync(MeshNode node, ChannelReader<ListenEvent> events, CancellationToken cancellationToken)
    {
        var recent = new Queue<ListenEvent>();
        int messages = 0;
        IRenderable View()
        {
            var log = new Table().Border(TableBorder.Rounded).Title($"[bold]Events[/] (messages: {messages})");
            log.AddColumn("Time").AddColumn("Event").AddColumn("Node").AddColumn("Detail");
            foreach (ListenEvent e in recent)
            {
                string detail = e.Message is { } m ? $"[cyan]{Markup.Escape(m.Type)}[/] {Markup.Escape(Truncate(DataText(m), 200))}" : string.Empty;
                string kind = e.Kind switch
                {
                    "node-available" => "[green]+ node[/]",
                    "node-unavailable" => "[red]- node[/]",
                    _ => "message",
                };
                log.AddRow(e.At.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture), kind, e.Node.ToString(), detail);
            }

            return new Rows(
                new Markup($"[bold]{Markup.Escape(node.Describe())}[/] — Ctrl+C to leave"),
                NodesCommand.Table(node.Network),
                log);
        }

        await AnsiConsole.Live(View()).AutoClear(false).StartAsync(async context =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    // Wake for each event, and once a second to refresh the latencies.
                    await events.WaitToReadAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }

                while (events.TryRead(out ListenEvent? e))
                {
                    recent.Enqueue(e);
                    messages += e.Message is null ? 0 : 1;
                    if (recent.Count > RecentEvents)
                    {
                        recent.Dequeue();
                    }
                }

                context.UpdateTarget(View());
                context.Refresh();
            }
        }).ConfigureAwait(false);
    }

    internal static JsonNode? Data(Message message)
    {
        try
        {
            return CborJson.ToJson(message.Data);
        }
        catch (CborException)
        {
            return JsonValue.Create(Convert.ToBase64String(message.RawData.Span));
        }
    }

    internal static string DataText(Message message) => Data(message)?.ToJsonString(CborJson.LineOptions) ?? "null";

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private sealed record ListenEvent(DateTimeOffset At, string Kind, NodeId Node, Message? Message);
}
