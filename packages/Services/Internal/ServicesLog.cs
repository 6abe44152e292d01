using Microsoft.Extensions.Logging;

namespace Ataraxia.Internal;

/// <summary>Log messages of the services package. Event ids 400–449 belong to it; they are never renumbered.</summary>
internal static partial class ServicesLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Dropped a malformed {Type} from {Source}: {Detail}")]
    public static partial void Malformed(ILogger logger, string type, NodeId source, string detail);

    [LoggerMessage(EventId = 401, Level = LogLevel.Debug, Message = "Node {Node} offers {Count} services (version {Version}).")]
    public static partial void RemoteList(ILogger logger, NodeId node, int count, long version);

    [LoggerMessage(EventId = 402, Level = LogLevel.Debug, Message = "Service {Service} on node {Node}: {Change}.")]
    public static partial void RemoteChange(ILogger logger, string service, NodeId node, string change);

    [LoggerMessage(EventId = 403, Level = LogLevel.Debug, Message = "Could not send {Type} to {Node}: {Detail}")]
    public static partial void SendFailed(ILogger logger, string type, NodeId node, string detail);

    [LoggerMessage(EventId = 404, Level = LogLevel.Debug, Message = "Call {Id} of {Service}.{Method} from {Caller} failed: {Detail}")]
    public static partial void InvocationFailed(ILogger logger, long id, string service, string method, NodeId caller, string detail);

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning, Message = "Refused call {Id} of {Service}.{Method} from {Caller}: {Limit} calls are already running.")]
    public static partial void InvocationRefused(ILogger logger, long id, string service, string method, NodeId caller, int limit);

    [LoggerMessage(EventId = 406, Level = LogLevel.Error, Message = "A handler of {What} threw.")]
    public static partial void HandlerFailed(ILogger logger, string what, Exception exception);

    [LoggerMessage(EventId = 407, Level = LogLevel.Debug, Message = "Ignored {Type} from {Source}: {Detail}")]
    public static partial void Ignored(ILogger logger, string type, NodeId source, string detail);

    [LoggerMessage(EventId = 411, Level = LogLevel.Debug, Message = "Ignored a reply from {Source}: no call {Id} waits for it.")]
    public static partial void ReplyIgnored(ILogger logger, NodeId source, long id);

    [LoggerMessage(EventId = 412, Level = LogLevel.Debug, Message = "Ignored {Type} from {Source}: there is no local service {Service} with event {Event}.")]
    public static partial void SubscriptionIgnored(ILogger logger, string type, NodeId source, string service, string @event);

    [LoggerMessage(EventId = 408, Level = LogLevel.Warning, Message = "The event source {Service}.{Event} failed.")]
    public static partial void EventSourceFailed(ILogger logger, string service, string @event, Exception exception);

    [LoggerMessage(EventId = 409, Level = LogLevel.Information, Message = "Registered service {Service} (version {Version}).")]
    public static partial void Registered(ILogger logger, string service, long version);

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Unregistered service {Service} (version {Version}).")]
    public static partial void Unregistered(ILogger logger, string service, long version);
}
