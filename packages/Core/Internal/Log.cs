using Ataraxia.Protocol;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Internal;

/// <summary>Log messages of the core package. Event ids 1–99 belong to it; they are never renumbered.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Peer session {Connection} started as {Role}.")]
    public static partial void SessionStarted(ILogger logger, string connection, PeerRole role);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Peer session {Connection} authenticated node {RemoteId} with {Method}.")]
    public static partial void SessionActive(ILogger logger, string connection, NodeId remoteId, string method);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Peer session {Connection} with {RemoteId} ended: {Reason}.")]
    public static partial void SessionEnded(ILogger logger, string connection, NodeId? remoteId, PeerDisconnectReason reason, Exception? exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Peer session {Connection}: protocol error, closing. {Detail}")]
    public static partial void ProtocolError(ILogger logger, string connection, string detail);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Peer session {Connection}: authentication with node {RemoteId} failed: {Detail}")]
    public static partial void AuthenticationFailed(ILogger logger, string connection, NodeId? remoteId, string detail);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Peer session {Connection}: rejected authentication method {Method}.")]
    public static partial void AuthMethodRejected(ILogger logger, string connection, string method);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Peer session {Connection}: negotiation step {State} timed out after {Timeout}.")]
    public static partial void NegotiationTimeout(ILogger logger, string connection, string state, TimeSpan timeout);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Peer session {Connection}: no PING from {RemoteId} for {Elapsed}; closing.")]
    public static partial void PingTimeout(ILogger logger, string connection, NodeId? remoteId, TimeSpan elapsed);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "Peer session {Connection}: dropped {Type} received before the session was active.")]
    public static partial void DroppedBeforeActive(ILogger logger, string connection, PeerMessageType type);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Peer session {Connection}: ignored a message with unknown tag {Tag}.")]
    public static partial void IgnoredUnknownTag(ILogger logger, string connection, ulong tag);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Peer session {Connection}: transport error.")]
    public static partial void TransportError(ILogger logger, string connection, Exception exception);
}
