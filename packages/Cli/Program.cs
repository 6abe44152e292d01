using System.CommandLine;
using Ataraxia.Cli.Commands;

namespace Ataraxia.Cli;

/// <summary>The <c>ataraxia</c> command: parses the command line, runs a command, and turns every failure into one line and an exit code.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // `wait … --exec cmd args…`: everything after --exec belongs to the command, options included.
        (string[] own, string[]? exec) = SplitExec(args);
        var mesh = new MeshOptions();
        RootCommand root = CreateRoot(mesh, exec);
        ParseResult result;
        try
        {
            result = root.Parse(MeshOptions.ExpandBareTcp(own));
        }
#pragma warning disable CA1031 // A parser failure is still a usage error, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Usage(root, ex.Message);
        }

        bool verbose = result.GetValue(mesh.Verbose);
        if (result.Errors.Count > 0)
        {
            // An unknown word explains more than the missing command or argument it also causes.
            string message = result.UnmatchedTokens.Count > 0
                ? $"Unrecognized command or argument '{result.UnmatchedTokens[0]}'."
                : result.Errors[0].Message;
            return Usage(result.CommandResult.Command, message);
        }

        if (exec is { Length: 0 })
        {
            return Usage(result.CommandResult.Command, "--exec needs a command.");
        }

        if (exec is not null && result.CommandResult.Command.Name != "wait")
        {
            return Usage(result.CommandResult.Command, "--exec belongs to the wait command.");
        }

        var configuration = new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = TimeSpan.FromSeconds(5),
        };
        try
        {
            return await result.InvokeAsync(configuration).ConfigureAwait(false);
        }
        catch (CommandException ex) when (ex.ExitCode == ExitCodes.Usage)
        {
            return Usage(result.CommandResult.Command, ex.Message);
        }
        catch (CommandException ex)
        {
            Output.Error(ex.Message);
            if (verbose && ex.InnerException is not null)
            {
                Console.Error.WriteLine(ex.InnerException);
            }

            return ex.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Interrupted;
        }
#pragma warning disable CA1031 // The tool's last line of defence: one line, not a stack trace (unless --verbose).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Output.Error($"{ex.Message}{(verbose ? string.Empty : " (--verbose shows details)")}");
            if (verbose)
            {
                Console.Error.WriteLine(ex);
            }

            return ExitCodes.Failure;
        }
    }

    internal static RootCommand CreateRoot(MeshOptions mesh, string[]? exec)
    {
        var root = new RootCommand("Join an Ataraxia mesh from the shell: watch it, list its nodes and services, send and wait for messages, call and offer services.");
        foreach (Option option in mesh.All)
        {
            root.Options.Add(option);
        }

        root.Subcommands.Add(new ListenCommand(mesh).Build());
        root.Subcommands.Add(new NodesCommand(mesh).Build());
        root.Subcommands.Add(new SendCommand(mesh).Build());
        root.Subcommands.Add(new WaitCommand(mesh, exec).Build());
        root.Subcommands.Add(new CallCommand(mesh).Build());
        root.Subcommands.Add(new ServicesCommand(mesh).Build());
        root.Subcommands.Add(new ServeCommand(mesh).Build());
        return root;
    }

    internal static (string[] Own, string[]? Exec) SplitExec(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--")
            {
                break;
            }

            if (args[i] == "--exec")
            {
                return (args[..i], args[(i + 1)..]);
            }
        }

        return (args, null);
    }

    /// <summary>Prints a one-line error and the command's usage on stderr; returns the usage exit code.</summary>
    private static int Usage(Command command, string message)
    {
        Output.Error(message);
        Console.Error.WriteLine($"usage: {UsageLine(command)}");
        Console.Error.WriteLine($"Run '{CommandPath(command)} --help' for more.");
        return ExitCodes.Usage;
    }

    internal static string UsageLine(Command command)
    {
        var parts = new List<string> { CommandPath(command) };
        if (command.Subcommands.Count > 0)
        {
            parts.Add("<command>");
        }

        foreach (Argument argument in command.Arguments)
        {
            string name = argument.HelpName ?? argument.Name;
            parts.Add(argument.Arity.MinimumNumberOfValues == 0 ? $"[{name}]" : $"<{name}>");
        }

        parts.Add("[options]");
        if (command.Name == "wait")
        {
            parts.Add("[--exec <command> [args...]]");
        }

        return string.Join(' ', parts);
    }

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is Command c; symbol = symbol.Parents.FirstOrDefault())
        {
            names.Insert(0, c is RootCommand ? "ataraxia" : c.Name);
        }

        return string.Join(' ', names);
    }
}
