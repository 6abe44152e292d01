using System.CommandLine;
using System.Text.Json.Nodes;
using Ataraxia.Cbor;

namespace Ataraxia.Cli.Commands;

/// <summary><c>ataraxia call</c>: wait for a service, call one of its methods and print the result as JSON.</summary>
internal sealed class CallCommand(MeshOptions mesh)
{
    private readonly Argument<string> _service = new("service") { Description = "The service id" };
    private readonly Argument<string> _method = new("method") { Description = "The method name" };
    private readonly Argument<string[]> _arguments = new("args")
    {
        Description = "The arguments, each as JSON; one that does not start with {, [ or \" and is not valid JSON is passed as a string",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private readonly Option<TimeSpan?> _timeout = CommandOptions.Duration("--timeout", TimeSpan.FromSeconds(30), "How long to wait for the service and its answer");

    public Command Build()
    {
        var command = new Command("call", "Call a method of a service and print its result as JSON");
        command.Arguments.Add(_service);
        command.Arguments.Add(_method);
        command.Arguments.Add(_arguments);
        command.Options.Add(_timeout);
        command.SetAction(RunAsync);
        return command;
    }

    /// <summary>Reads a call argument: JSON, or else the text itself.</summary>
    internal static CborValue ParseArgument(string text, int position)
    {
        string trimmed = text.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('[') || trimmed.StartsWith('"'))
        {
            return CborJson.Parse(text, $"Argument {position}");
        }

        try
        {
            return CborJson.Parse(text, $"Argument {position}");
        }
        catch (CommandException)
        {
            return text;
        }
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        MeshSettings settings = mesh.Read(parse);
        string service = parse.GetValue(_service) ?? string.Empty;
        string method = parse.GetValue(_method) ?? string.Empty;
        if (service.Length == 0 || method.Length == 0)
        {
            throw CommandException.Usage("The service id and the method name must not be empty.");
        }

        object?[] arguments = [.. (parse.GetValue(_arguments) ?? []).Select((a, i) => (object?)ParseArgument(a, i + 1))];
        TimeSpan timeout = parse.GetValue(_timeout) ?? TimeSpan.FromSeconds(30);

        var output = new Output(settings.Json);
        await using MeshNode node = MeshNode.Create(settings, endpoint: true);
        await using var services = new Services(node.Network, new ServicesOptions { CallTimeout = timeout, LoggerFactory = node.LoggerFactory });
        CborValue? result = await CommandOptions.WithTimeoutAsync(
            timeout,
            $"waiting for the service {service}",
            async token =>
            {
                await node.JoinAsync(output, announce: false, token).ConfigureAwait(false);
                await services.JoinAsync(token).ConfigureAwait(false);
                ServiceReference reference = services.Get(service);
                await reference.WaitUntilAvailableAsync(token).ConfigureAwait(false);
                try
                {
                    return await reference.CallAsync<CborValue>(method, arguments, token).ConfigureAwait(false);
                }
                catch (ServiceCallException ex) when (ex.Failure == ServiceCallFailure.Timeout)
                {
                    throw CommandException.Timeout($"The call of {method} on {service} was not answered within {Duration.Format(timeout)}.");
                }
                catch (ServiceCallException ex)
                {
                    throw new CommandException(ex.Failure == ServiceCallFailure.RemoteError ? $"{service}.{method} failed: {ex.RemoteMessage ?? ex.Message}" : ex.Message, ex);
                }
            },
            cancellationToken).ConfigureAwait(false);

        JsonNode? json = CborJson.ToJson(result ?? CborValue.Null);
        if (output.Json)
        {
            output.Event("result", new JsonObject { ["service"] = service, ["method"] = method, ["result"] = json });
        }
        else
        {
            output.Line(json?.ToJsonString(CborJson.LineOptions) ?? "null");
        }

        return ExitCodes.Success;
    }
}
