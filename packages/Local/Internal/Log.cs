using Microsoft.Extensions.Logging;

namespace Ataraxia.Local.Internal;

/// <summary>Log messages of the machine-local package. Event ids 200–299 belong to it; they are never renumbered.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Became the machine-local leader at {Path}.")]
    public static partial void BecameLeader(ILogger logger, string path);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Stopped being the machine-local leader at {Path}.")]
    public static partial void StoppedLeading(ILogger logger, string path);

    [LoggerMessage(EventId = 202, Level = LogLevel.Debug, Message = "Connected to the machine-local leader at {Path}.")]
    public static partial void ConnectedToLeader(ILogger logger, string path);

    [LoggerMessage(EventId = 203, Level = LogLevel.Debug, Message = "Could not reach the machine-local leader at {Path}: {Error}")]
    public static partial void ConnectFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Could not take part in the leader election at {Path}; retrying.")]
    public static partial void ElectionFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 205, Level = LogLevel.Debug, Message = "Machine-local connection {Connection} ended before or while it was used.")]
    public static partial void ConnectionFailed(ILogger logger, string connection, Exception exception);

    [LoggerMessage(EventId = 206, Level = LogLevel.Error, Message = "A LeadershipChanged handler threw.")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 207, Level = LogLevel.Debug, Message = "Removed a stale socket file at {Path}.")]
    public static partial void RemovedStaleSocket(ILogger logger, string path);
}
