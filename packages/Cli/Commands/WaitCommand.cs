using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Ataraxia.Cbor;

namespace Ataraxia.Cli.Commands;

/// <summary>
/// <c>ataraxia wait</c>: a remote semaphore for scripts. Exits 0 when a matching message arrives (printing it, or running
/// the <c>--exec</c> command with it and exiting with that command's code), 1 when the timeout passes first.
/// </summary>
internal sealed class WaitCommand(MeshOptions mesh, string[]? exec)
{
    private readonly Argument<string> _type = new("type") { Description = "The message type to wait for" };
    private readonly Option<string> _from = new("--from") { Description = "Only from this node (its id, or the start of it)", HelpName = "node" };
    private readonly Option<string> _match = new("--match") { Description = "Only messages whose payload contains this JSON (objects by their keys, recursively)", HelpName = "json" };
    private readonly Option<TimeSpan?> _timeout = CommandOptions.Duration("--timeout", TimeSpan.FromSeconds(30), "How long to wait; exit code 1 when it passes");

    // Only for the help text: Program takes everything after --exec before parsing.
    private readonly Option<string[]> _exec = new("--exec")
    {
        Description = "Run this command (the rest of the line) with the message in ATARAXIA_SOURCE, ATARAXIA_TYPE and ATARAXIA_DATA (JSON), and exit with its exit code",
        HelpName = "command args...",
    };

    public Command Build()
    {
        var command = new Command("wait", "Wait for a message: exit 0 when one arrives (1 on timeout, 2 on a usage error, 3 on other errors)");
        command.Arguments.Add(_type);
        command.Options.Add(_from);
        command.Options.Add(_match);
        command.Options.Add(_timeout);
        command.Options.Add(_exec);
        command.SetAction(RunAsync);
        return command;
    }

    /// <summary>Runs a command with the message in its environment and returns its exit code.</summary>
    internal static async Task<int> ExecuteAsync(string[] commandLine, NodeId source, string type, string data, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(commandLine[0]) { UseShellExecute = false };
        foreach (string argument in commandLine.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ATARAXIA_SOURCE"] = source.ToString();
        start.Environment["ATARAXIA_TYPE"] = type;
        start.Environment["ATARAXIA_DATA"] = data;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CommandException($"Could not start '{commandLine[0]}'.");
        }
        catch (Win32Exception ex)
        {
            throw new CommandException($"Could not start '{commandLine[0]}': {ex.Message}", ex);
        }

        using (process)
        {
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C reached the command too (same terminal); do not leave it behind if it ignored it.
                process.Kill(entireProcessTree: true);
                throw;
            }

            return process.ExitCode;
        }
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        MeshSettings settings = mesh.Read(parse);
        string type = parse.GetValue(_type) ?? string.Empty;
        if (type.Length == 0)
        {
            throw CommandException.Usage("The message type is empty.");
        }

        string? from = parse.GetValue(_from) is { } f ? NodeSelector.Validate(f, "--from") : null;
        CborValue? pattern = parse.GetValue(_match) is { } m ? CborJson.Parse(m, "--match") : null;
        TimeSpan timeout = parse.GetValue(_timeout) ?? TimeSpan.FromSeconds(30);

        var output = new Output(settings.Json);
        Message message;
        await using (MeshNode node = MeshNode.Create(settings, endpoint: false))
        {
            Channel<Message> messages = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true });
            node.Network.MessageReceived += (_, e) => messages.Writer.TryWrite(e.Message);
            message = await CommandOptions.WithTimeoutAsync(
                timeout,
                $"waiting for a {type} message",
                async token =>
                {
                    await node.JoinAsync(output, announce: false, token).ConfigureAwait(false);
                    await foreach (Message candidate in messages.Reader.ReadAllAsync(token).ConfigureAwait(false))
                    {
                        if (Accepts(candidate.Source.Id, candidate.Type, () => candidate.Data, type, from, pattern))
                        {
                            return candidate;
                        }
                    }

                    throw new OperationCanceledException(token);
                },
                cancellationToken).ConfigureAwait(false);
        }

        JsonNode? data = ListenCommand.Data(message);
        string dataText = data?.ToJsonString(CborJson.LineOptions) ?? "null";
        output.Event("message", new JsonObject { ["source"] = message.Source.Id.ToString(), ["type"] = message.Type, ["data"] = data });
        if (exec is not null)
        {
            return await ExecuteAsync(exec, message.Source.Id, message.Type, dataText, cancellationToken).ConfigureAwait(false);
        }

        if (!output.Json)
        {
            output.Line(dataText);
        }

        return ExitCodes.Success;
    }

    /// <summary>Whether a message passes the filters: its type, its sender (id or start of it) and a payload pattern.</summary>
    internal static bool Accepts(NodeId source, string type, Func<CborValue> data, string expectedType, string? from, CborValue? pattern)
    {
        if (type != expectedType || (from is not null && !NodeSelector.Matches(source, from)))
        {
            return false;
        }

        if (pattern is null)
        {
            return true;
        }

        try
        {
            return CborJson.Matches(pattern, data());
        }
        catch (CborException)
        {
            // A payload that is not valid CBOR matches no pattern.
            return false;
        }
    }
}
