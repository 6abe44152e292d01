using System.Net;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Internal;

/// <summary>Log messages of the TCP package. Event ids 100–199 belong to it; they are never renumbered.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "TCP transport listening on {EndPoint} ({Security}).")]
    public static partial void Listening(ILogger logger, EndPoint endPoint, string security);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Refused connection from {Remote}: {Why}.")]
    public static partial void Refused(ILogger logger, EndPoint? remote, string why);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Connection {Connection} failed before it was authenticated.")]
    public static partial void HandshakeFailed(ILogger logger, string connection, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Could not connect to {Peer} at {Address}: {Error}")]
    public static partial void ConnectFailed(ILogger logger, DnsEndPoint peer, IPAddress address, string error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Peer {Peer} rejected authentication (or was rejected); retrying with back-off. Check that both sides share the same secret.")]
    public static partial void AuthenticationRejected(ILogger logger, DnsEndPoint peer, Exception exception);

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "Reconnecting to {Peer} in {Delay}.")]
    public static partial void Backoff(ILogger logger, DnsEndPoint peer, TimeSpan delay);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Closing duplicate connection {Connection} to node {Node}; keeping the one the lower node id opened.")]
    public static partial void DuplicateClosed(ILogger logger, string connection, NodeId node);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Could not resolve {Host}: {Error}")]
    public static partial void ResolveFailed(ILogger logger, string host, string error);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "TCP transport runs WITHOUT TLS: traffic and authentication are in the clear and not bound to the channel.")]
    public static partial void Plaintext(ILogger logger);
}
