using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Ataraxia.Cli.Commands;

/// <summary><c>ataraxia serve</c>: a long-running node offering a service whose methods run exposed commands.</summary>
internal sealed class ServeCommand(MeshOptions mesh)
{
    private readonly Option<string[]> _expose = new("--expose", "-e")
    {
        Description = "Offer a command as a method: name=command [fixed args] (repeatable); callers' arguments are appended as separate arguments, never through a shell",
        HelpName = "name=command",
        Required = true,
    };

    private readonly Option<string> _service = new("--service", "-s")
    {
        Description = "The service id",
        HelpName = "id",
        DefaultValueFactory = _ => "shell",
    };

    private readonly Option<string[]> _allow = new("--allow")
    {
        Description = "Only this node may call (repeatable); others get an error. Default: every node that can join the mesh",
        HelpName = "node",
    };

    private readonly Option<int?> _maxOutput = CommandOptions.Count("--max-output", 0, "bytes", "Bytes of stdout and of stderr returned per call; the rest is dropped (default 65536)");
    private readonly Option<TimeSpan?> _maxTime = CommandOptions.Duration("--max-time", TimeSpan.FromSeconds(30), "How long a command may run before it is killed and the call fails");
    private readonly Option<int?> _maxConcurrent = CommandOptions.Count("--max-concurrent", 1, "count", "Commands running at once; more calls wait (default 4)");

    public Command Build()
    {
        var command = new Command("serve", "Offer commands of this machine as a service until Ctrl+C; a call runs the command and returns { exitCode, stdout, stderr, truncated }");
        command.Options.Add(_expose);
        command.Options.Add(_service);
        command.Options.Add(_allow);
        command.Options.Add(_maxOutput);
        command.Options.Add(_maxTime);
        command.Options.Add(_maxConcurrent);
        command.SetAction(RunAsync);
        return command;
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        MeshSettings settings = mesh.Read(parse);
        string serviceId = parse.GetValue(_service) ?? "shell";
        if (serviceId.Length == 0)
        {
            throw CommandException.Usage("--service needs an id.");
        }

        List<ExposedCommand> commands = [.. (parse.GetValue(_expose) ?? []).Select(ExposedCommand.Parse)];
        List<NodeId> allowed = [];
        foreach (string text in parse.GetValue(_allow) ?? [])
        {
            if (!NodeId.TryParse(NodeSelector.Validate(text, "--allow"), out NodeId id))
            {
                throw CommandException.Usage($"--allow needs a node id, not '{text}'.");
            }

            allowed.Add(id);
        }

        var defaults = new CommandLimits();
        var limits = new CommandLimits
        {
            MaxOutputBytes = parse.GetValue(_maxOutput) ?? defaults.MaxOutputBytes,
            MaxTime = parse.GetValue(_maxTime) ?? defaults.MaxTime,
            MaxConcurrent = parse.GetValue(_maxConcurrent) ?? defaults.MaxConcurrent,
        };
        var output = new Output(settings.Json);
        using var runner = new CommandService(commands, allowed, limits, run => Report(output, run));
        await using MeshNode node = MeshNode.Create(settings, endpoint: false);
        await using var services = new Services(node.Network, new ServicesOptions { LoggerFactory = node.LoggerFactory });
        await node.JoinAsync(output, announce: true, cancellationToken).ConfigureAwait(false);
        await services.JoinAsync(cancellationToken).ConfigureAwait(false);
        using ServiceRegistration registration = services.Register(serviceId, runner.CreateDefinition(serviceId), runner.HandleAsync);
        output.Event("serving", new JsonObject
        {
            ["service"] = serviceId,
            ["methods"] = new JsonArray([.. runner.Names.Select(n => (JsonNode?)n)]),
            ["allow"] = new JsonArray([.. allowed.Select(a => (JsonNode?)a.ToString())]),
        });
        output.Status($"serving '{serviceId}': {string.Join(", ", runner.Names)}{(allowed.Count > 0 ? $" (only for {string.Join(", ", allowed)})" : string.Empty)}; Ctrl+C to stop");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return ExitCodes.Success;
    }

    private static void Report(Output output, CommandRun run)
    {
        output.Event(run.Error is null ? "call" : "call-failed", new JsonObject
        {
            ["caller"] = run.Caller.ToString(),
            ["method"] = run.Method,
            ["arguments"] = new JsonArray([.. run.Arguments.Select(a => (JsonNode?)a)]),
            ["exitCode"] = run.ExitCode,
            ["durationMs"] = Math.Round(run.Duration.TotalMilliseconds, 1),
            ["error"] = run.Error,
        });
        if (!output.Json)
        {
            string time = DateTimeOffset.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
            output.Line(run.Error is null
                ? $"{time} {run.Caller} ran {run.Method} ({run.Arguments.Count} arguments): exit {run.ExitCode} in {run.Duration.TotalMilliseconds:0} ms"
                : $"{time} {run.Caller} called {run.Method}: {run.Error}");
        }
    }
}
