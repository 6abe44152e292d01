using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Ataraxia.Cli.Commands;

/// <summary><c>ataraxia services</c>: list what the mesh offers: each service with its providers and methods.</summary>
internal sealed class ServicesCommand(MeshOptions mesh)
{
    private readonly Option<TimeSpan?> _wait = CommandOptions.Duration("--wait", TimeSpan.FromSeconds(2), "How long to learn the services before printing");
    private readonly Option<int?> _expect = CommandOptions.Count("--expect", 1, "count", "Print as soon as this many services are available (exit 1 if not within --wait)");

    public Command Build()
    {
        var command = new Command("services", "List the services the mesh offers: id, providers and methods");
        command.Options.Add(_wait);
        command.Options.Add(_expect);
        command.SetAction(RunAsync);
        return command;
    }

    /// <summary>A method as a signature: <c>name(a, b?, ...rest)</c>.</summary>
    internal static string Signature(ServiceMethodDefinition method) =>
        $"{method.Name}({string.Join(", ", method.Parameters.Select(p => (p.Rest ? "..." : string.Empty) + p.Name + (p.Optional && !p.Rest ? "?" : string.Empty)))})";

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        MeshSettings settings = mesh.Read(parse);
        TimeSpan wait = parse.GetValue(_wait) ?? TimeSpan.FromSeconds(2);
        int expect = parse.GetValue(_expect) ?? 0;
        var output = new Output(settings.Json);
        await using MeshNode node = MeshNode.Create(settings, endpoint: true);
        await using var services = new Services(node.Network, new ServicesOptions { LoggerFactory = node.LoggerFactory });
        using var changed = new ChangeSignal();
        services.ServiceAvailable += (_, _) => changed.Set();
        await node.JoinAsync(output, announce: false, cancellationToken).ConfigureAwait(false);
        await services.JoinAsync(cancellationToken).ConfigureAwait(false);

        bool complete = true;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(wait);
            try
            {
                if (expect > 0)
                {
                    await changed.WaitUntilAsync(() => services.AvailableServices.Count >= expect, deadline.Token).ConfigureAwait(false);
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

        IReadOnlyList<ServiceReference> available = services.AvailableServices;
        if (output.Json)
        {
            foreach (ServiceReference service in available)
            {
                ServiceDefinition? definition = service.Definition;
                output.Event("service", new JsonObject
                {
                    ["id"] = service.Id,
                    ["providers"] = new JsonArray([.. service.Providers.Select(p => (JsonNode?)p.Node.ToString())]),
                    ["methods"] = new JsonArray([.. (definition?.Methods ?? []).Select(m => (JsonNode?)new JsonObject
                    {
                        ["name"] = m.Name,
                        ["description"] = m.Description,
                        ["returnType"] = m.ReturnType,
                        ["parameters"] = new JsonArray([.. m.Parameters.Select(p => (JsonNode?)new JsonObject
                        {
                            ["name"] = p.Name,
                            ["type"] = p.Type,
                            ["optional"] = p.Optional,
                            ["rest"] = p.Rest,
                        })]),
                    })]),
                    ["events"] = new JsonArray([.. (definition?.Events ?? []).Select(e => (JsonNode?)e.Name)]),
                });
            }
        }
        else if (output.Rich)
        {
            var table = new Table().Border(TableBorder.Rounded).Title($"[bold]Services[/] ({available.Count})");
            table.AddColumn("Service").AddColumn("Providers").AddColumn("Methods");
            foreach (ServiceReference service in available)
            {
                table.AddRow(
                    Markup.Escape(service.Id),
                    string.Join('\n', service.Providers.Select(p => p.Node.ToString())),
                    Markup.Escape(string.Join('\n', (service.Definition?.Methods ?? []).Select(Signature))));
            }

            output.Render(table);
        }
        else if (available.Count > 0)
        {
            foreach (string line in Output.Columns(
                ["SERVICE", "PROVIDERS", "METHODS"],
                available.Select(s => (IReadOnlyList<string>)[
                    s.Id,
                    string.Join(",", s.Providers.Select(p => p.Node.ToString())),
                    string.Join(" ", (s.Definition?.Methods ?? []).Select(Signature))])))
            {
                output.Line(line);
            }
        }

        if (available.Count == 0)
        {
            output.Status($"No service was offered within {Duration.Format(wait)}.");
        }

        if (!complete)
        {
            throw CommandException.Timeout($"Only {available.Count} of the {expect} expected services were available within {Duration.Format(wait)}.");
        }

        return ExitCodes.Success;
    }
}
