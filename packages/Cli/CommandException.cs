namespace Ataraxia.Cli;

/// <summary>The tool's exit codes (README.md, "Exit codes").</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The deadline passed first: no matching message, node or service in time.</summary>
    public const int Timeout = 1;

    /// <summary>The command line is wrong: an unknown command or option, a missing argument, a value that does not parse.</summary>
    public const int Usage = 2;

    /// <summary>Anything else went wrong: delivery failed, a remote call failed, a transport could not start.</summary>
    public const int Failure = 3;

    /// <summary>Interrupted (Ctrl+C or SIGTERM) before a command that waits for something finished, as shells report SIGINT.</summary>
    public const int Interrupted = 130;
}

/// <summary>Ends a command with a one-line message on stderr and an exit code; never shows a stack trace.</summary>
internal sealed class CommandException : Exception
{
    public CommandException()
        : this(ExitCodes.Failure, "The command failed.")
    {
    }

    public CommandException(string message)
        : this(ExitCodes.Failure, message)
    {
    }

    public CommandException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Failure;
    }

    public CommandException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    /// <summary>Gets the exit code the tool ends with.</summary>
    public int ExitCode { get; }

    /// <summary>A mistake on the command line: the usage is printed after the message.</summary>
    public static CommandException Usage(string message) => new(ExitCodes.Usage, message);

    /// <summary>The deadline passed before what the command waits for happened.</summary>
    public static CommandException Timeout(string message) => new(ExitCodes.Timeout, message);
}
