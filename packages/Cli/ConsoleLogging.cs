using Microsoft.Extensions.Logging;

namespace Ataraxia.Cli;

/// <summary>Logs of the library on stderr, one line each: warnings and errors by default, everything with <c>--verbose</c>.</summary>
internal sealed class ConsoleLoggerFactory(LogLevel minimum, bool withStackTraces) : ILoggerFactory
{
    private static readonly Lock Gate = new();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, minimum, withStackTraces);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogLevel minimum, bool withStackTraces) : ILogger
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

            string level = logLevel switch
            {
                LogLevel.Trace => "trace",
                LogLevel.Debug => "debug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "error",
                _ => "crit",
            };
            string text = $"{level}: {category}: {CborJson.OneLine(formatter(state, exception))}";
            if (exception is not null)
            {
                text += withStackTraces ? $"{Environment.NewLine}{exception}" : $" ({CborJson.OneLine(exception.Message)})";
            }

            lock (Gate)
            {
                Console.Error.WriteLine(text);
            }
        }
    }
}
