using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Testing.Hosts;

// Shared by the child-process test hosts (tests/Ataraxia.Tcp.NodeRunner, Ataraxia.Local.TestHost, Ataraxia.Services.TestHost), which link
// this file: they speak JSON lines on stdout and report logged warnings and errors as events.

internal static class Output
{
    private static readonly Lock Gate = new();

    /// <summary>Runs a host's body; an exception it throws becomes a <c>fatal</c> event and exit code 1.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception ex)
        {
            Write(new JsonObject { ["event"] = "fatal", ["error"] = ex.ToString() });
            return 1;
        }
    }

    public static void Write(JsonObject e)
    {
        string line = e.ToJsonString();
        lock (Gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}

/// <summary>Reports log entries at or above a level as <c>log</c> events, so a test can fail on logged errors.</summary>
internal sealed class JsonLoggerFactory(LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, minimum);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            Output.Write(new JsonObject
            {
                ["event"] = "log",
                ["level"] = logLevel.ToString(),
                ["category"] = category,
                ["eventId"] = eventId.Id,
                ["message"] = formatter(state, exception),
                ["exception"] = exception?.ToString(),
            });
        }
    }
}
