using System.CommandLine;
using System.Text.Json.Nodes;
using Ataraxia.Cbor;

namespace Ataraxia.Cli.Commands;

/// <summary><c>ataraxia send</c>: send one message, with a JSON payload mapped to CBOR, to a node, to every node or to a group.</summary>
internal sealed class SendCommand(MeshOptions mesh)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RoutedSettle = TimeSpan.FromMilliseconds(500);

    // <node> <type> [json], or <type> [json] with --all or --group: the words shift, so they are read by position.
    private readonly Argument<string> _node = new("node") { Description = "The node: its id, or the start of it (with --all or --group: the type)" };
    private readonly Argument<string> _type = new("type") { Description = "The message type (with --all or --group: the payload)", Arity = ArgumentArity.ZeroOrOne };
    private readonly Argument<string> _json = new("json") { Description = "The payload as JSON, mapped to CBOR (default null; - reads it from stdin)", Arity = ArgumentArity.ZeroOrOne };

    private readonly Option<bool> _all = new("--all") { Description = "Send to every reachable node" };
    private readonly Option<string> _group = new("--group", "-g") { Description = "Send to every member of a group", HelpName = "name" };
    private readonly Option<TimeSpan?> _timeout = CommandOptions.Duration("--timeout", TimeSpan.FromSeconds(10), "How long to wait for the target to be reachable");
    private readonly Option<int?> _expect = CommandOptions.Count("--expect", 1, "count", "With --all or --group: wait until this many nodes can receive it");

    public Command Build()
    {
        var command = new Command("send", "Send a message to a node (or --all, or --group g): wait until it is reachable, send, and wait for the first hop to accept it");
        command.Arguments.Add(_node);
        command.Arguments.Add(_type);
        command.Arguments.Add(_json);
        command.Options.Add(_all);
        command.Options.Add(_group);
        command.Options.Add(_timeout);
        command.Options.Add(_expect);
        command.SetAction(RunAsync);
        return command;
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        MeshSettings settings = mesh.Read(parse);
        string[] arguments = [.. new[] { parse.GetValue(_node), parse.GetValue(_type), parse.GetValue(_json) }.OfType<string>()];
        bool all = parse.GetValue(_all);
        string? group = parse.GetValue(_group);
        TimeSpan timeout = parse.GetValue(_timeout) ?? TimeSpan.FromSeconds(10);
        int expect = parse.GetValue(_expect) ?? 0;
        bool many = all || group is not null;
        if (all && group is not null)
        {
            throw CommandException.Usage("Give --all or --group, not both.");
        }

        if (group is { Length: 0 })
        {
            throw CommandException.Usage("--group needs a name.");
        }

        if (expect > 0 && !many)
        {
            throw CommandException.Usage("--expect goes with --all or --group.");
        }

        int first = many ? 0 : 1;
        if (arguments.Length < first + 1 || arguments.Length > first + 2)
        {
            throw CommandException.Usage(many
                ? "With --all or --group, give <type> and optionally [json]."
                : "Give <node> <type> and optionally [json] (or --all / --group instead of the node).");
        }

        string? target = many ? null : NodeSelector.Validate(arguments[0], "send");
        string type = arguments[first];
        if (type.Length == 0)
        {
            throw CommandException.Usage("The message type is empty.");
        }

        CborValue data = arguments.Length > first + 1 ? ReadPayload(arguments[first + 1]) : CborValue.Null;

        var output = new Output(settings.Json);
        await using MeshNode node = MeshNode.Create(settings, endpoint: true);
        using var changed = new ChangeSignal();
        node.Network.NodeAvailable += (_, _) => changed.Set();
        await node.JoinAsync(output, announce: false, cancellationToken).ConfigureAwait(false);
        NamedGroup? named = group is null ? null : new NamedGroup(node.Network, group);
        if (named is not null)
        {
            named.MemberAvailable += (_, _) => changed.Set();
        }

        try
        {
            if (target is not null)
            {
                Node destination = await CommandOptions.WithTimeoutAsync(
                    timeout,
                    $"waiting for node {target} to be reachable",
                    async token =>
                    {
                        Node? found = null;
                        await changed.WaitUntilAsync(() => (found = NodeSelector.Find(node.Network.Nodes, target)) is not null, token).ConfigureAwait(false);
                        return found!;
                    },
                    cancellationToken).ConfigureAwait(false);
                if (node.Network.GetRoute(destination.Id) is { IsDirect: false })
                {
                    // Through routers the recipient learns of this new node a moment after this node learned of it. A .NET
                    // node holds such early messages (NetworkOptions.UnknownSourceHoldTime); a JavaScript node drops them
                    // (WIRE.md §7.3): give the topology that moment.
                    await Task.Delay(RoutedSettle, cancellationToken).ConfigureAwait(false);
                }

                await DeliverAsync(() => destination.SendAsync(type, data, cancellationToken).AsTask()).ConfigureAwait(false);
                output.Event("sent", new JsonObject { ["type"] = type, ["to"] = new JsonArray(destination.Id.ToString()) });
                output.Status($"sent {type} to {destination.Id}");
                return ExitCodes.Success;
            }

            Func<int> count = named is null ? () => node.Network.Nodes.Count : () => named.Members.Count;
            string who = named is null ? "reachable nodes" : $"members of group '{group}'";
            await CommandOptions.WithTimeoutAsync(
                timeout,
                expect > 0 ? $"waiting for {expect} {who} (found {count()})" : $"waiting for {who}",
                async token =>
                {
                    await changed.WaitUntilAsync(() => count() >= Math.Max(1, expect), token).ConfigureAwait(false);
                    if (expect == 0)
                    {
                        // Nodes that joined together appear within moments of each other: give the rest of the mesh a chance.
                        await changed.WaitForQuietAsync(Quiet, token).ConfigureAwait(false);
                    }
                },
                cancellationToken).ConfigureAwait(false);

            IReadOnlyCollection<Node> recipients = named?.Members ?? node.Network.Nodes;
            if (recipients.Any(n => node.Network.GetRoute(n.Id) is { IsDirect: false }))
            {
                // As for one node: nodes behind routers learn of this node a moment after it learned of them.
                await Task.Delay(RoutedSettle, cancellationToken).ConfigureAwait(false);
            }

            int accepted = 0;
            await DeliverAsync(async () => accepted = named is null
                ? await node.Network.BroadcastAsync(type, data, cancellationToken).ConfigureAwait(false)
                : await named.BroadcastAsync(type, data, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            output.Event("sent", new JsonObject { ["type"] = type, ["to"] = new JsonArray([.. recipients.Select(n => (JsonNode?)n.Id.ToString())]), ["accepted"] = accepted });
            output.Status($"sent {type} to {accepted} of {recipients.Count} {who}");
            if (accepted < recipients.Count)
            {
                throw new CommandException($"Only {accepted} of {recipients.Count} {who} accepted the message.");
            }

            return ExitCodes.Success;
        }
        finally
        {
            if (named is not null)
            {
                await named.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static CborValue ReadPayload(string text)
    {
        if (text == "-")
        {
            text = Console.In.ReadToEnd();
            return CborJson.Parse(text, "The payload on stdin");
        }

        return CborJson.Parse(text, "The payload");
    }

    private static async Task DeliverAsync(Func<Task> send)
    {
        try
        {
            await send().ConfigureAwait(false);
        }
        catch (MessageDeliveryException ex)
        {
            throw new CommandException($"The message was not delivered: {ex.Message}", ex);
        }
    }
}
