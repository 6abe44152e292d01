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

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Network {Name}: node {NodeId} joined.")]
    public static partial void NetworkJoined(ILogger logger, string name, NodeId nodeId);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Network {Name}: node {NodeId} left.")]
    public static partial void NetworkLeft(ILogger logger, string name, NodeId nodeId);

    [LoggerMessage(EventId = 22, Level = LogLevel.Debug, Message = "Connection to {Peer} ({Connection}) attached.")]
    public static partial void ConnectionAttached(ILogger logger, NodeId peer, string connection);

    [LoggerMessage(EventId = 23, Level = LogLevel.Debug, Message = "Connection to {Peer} ({Connection}) detached: {Reason}.")]
    public static partial void ConnectionDetached(ILogger logger, NodeId peer, string connection, PeerDisconnectReason reason);

    [LoggerMessage(EventId = 24, Level = LogLevel.Debug, Message = "Node {NodeId} is available.")]
    public static partial void NodeAvailable(ILogger logger, NodeId nodeId);

    [LoggerMessage(EventId = 25, Level = LogLevel.Debug, Message = "Node {NodeId} is unavailable.")]
    public static partial void NodeUnavailable(ILogger logger, NodeId nodeId);

    [LoggerMessage(EventId = 26, Level = LogLevel.Debug, Message = "Rejected DATA for {Target} from {Peer}: {Why}.")]
    public static partial void DataRejected(ILogger logger, NodeId target, NodeId peer, string why);

    [LoggerMessage(EventId = 27, Level = LogLevel.Debug, Message = "Dropped {Type} from {Source}: {Why}.")]
    public static partial void MessageDropped(ILogger logger, string type, NodeId source, string why);

    [LoggerMessage(EventId = 28, Level = LogLevel.Warning, Message = "A handler of the {Event} event threw.")]
    public static partial void EventHandlerFailed(ILogger logger, string @event, Exception exception);

    [LoggerMessage(EventId = 29, Level = LogLevel.Warning, Message = "Refused a connection to ourselves (node {NodeId}).")]
    public static partial void SelfConnection(ILogger logger, NodeId nodeId);

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Transport {Transport} failed to stop.")]
    public static partial void TransportStopFailed(ILogger logger, string transport, Exception exception);

    [LoggerMessage(EventId = 31, Level = LogLevel.Error, Message = "Periodic task {Task} failed.")]
    public static partial void TimerFailed(ILogger logger, string task, Exception exception);

    [LoggerMessage(EventId = 32, Level = LogLevel.Error, Message = "The protocol handler for {Type} from {Source} failed; the message was dropped.")]
    public static partial void ProtocolHandlerFailed(ILogger logger, string type, NodeId source, Exception exception);

    [LoggerMessage(EventId = 33, Level = LogLevel.Debug, Message = "Holding {Type} from {Source} until the topology names its sender.")]
    public static partial void MessageHeld(ILogger logger, string type, NodeId source);
}
