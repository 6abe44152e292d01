using System.Net;
using Microsoft.Extensions.Logging;

namespace Ataraxia.WebSockets.Internal;

/// <summary>Log messages of the WebSockets package. Event ids 300–399 belong to it; they are never renumbered.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "WebSocket server transport listening on {Url}.")]
    public static partial void Listening(ILogger logger, Uri url);

    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "Refused WebSocket request {Method} {Path} from {Remote} with {Status}: {Why}.")]
    public static partial void Refused(ILogger logger, string method, Microsoft.AspNetCore.Http.PathString path, IPAddress? remote, int status, string why);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Refused WebSocket request from {Remote}: origin {Origin} is not allowed (403).")]
    public static partial void OriginRejected(ILogger logger, IPAddress? remote, string origin);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "Refused WebSocket request from {Remote}: the authorization hook declined it ({Status}).")]
    public static partial void AuthorizationRejected(ILogger logger, IPAddress? remote, int status);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "WebSocket connection {Connection} received a message larger than {Limit} bytes; closing the connection with status 1009 (MessageTooBig). Raise MaxMessageSize on both sides if such messages are expected.")]
    public static partial void MessageTooBig(ILogger logger, string connection, long limit);

    [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "WebSocket connection {Connection} ended before it was authenticated.")]
    public static partial void HandshakeFailed(ILogger logger, string connection, Exception exception);

    [LoggerMessage(EventId = 306, Level = LogLevel.Debug, Message = "Could not connect to {Url}: {Error}")]
    public static partial void ConnectFailed(ILogger logger, Uri url, string error);

    [LoggerMessage(EventId = 307, Level = LogLevel.Warning, Message = "WebSocket server {Url} rejected authentication (or was rejected); retrying with back-off. Check that both sides share the same secret.")]
    public static partial void AuthenticationRejected(ILogger logger, Uri url, Exception exception);

    [LoggerMessage(EventId = 308, Level = LogLevel.Debug, Message = "Reconnecting to {Url} in {Delay}.")]
    public static partial void Backoff(ILogger logger, Uri url, TimeSpan delay);

    [LoggerMessage(EventId = 309, Level = LogLevel.Warning, Message = "WebSocket server {Url} refused the upgrade with HTTP {Status}; retrying with back-off. Check the request headers (for example the bearer token) and the server's allowed origins.")]
    public static partial void UpgradeRefused(ILogger logger, Uri url, int status);

    [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Connecting to {Url} WITHOUT TLS: traffic and authentication are in the clear. Use wss:// (or a TLS-terminating proxy) beyond trusted networks.")]
    public static partial void Plaintext(ILogger logger, Uri url);

    [LoggerMessage(EventId = 311, Level = LogLevel.Debug, Message = "WebSocket connection {Connection} closed by the peer with {Status} {Description}.")]
    public static partial void ClosedByPeer(ILogger logger, string connection, WebSocketCloseStatusName status, string? description);

    [LoggerMessage(EventId = 312, Level = LogLevel.Debug, Message = "Connected to {Url}.")]
    public static partial void Connected(ILogger logger, Uri url);

    [LoggerMessage(EventId = 314, Level = LogLevel.Debug, Message = "WebSocket server {Url} refused the upgrade with HTTP {Status} again.")]
    public static partial void UpgradeRefusedAgain(ILogger logger, Uri url, int status);

    [LoggerMessage(EventId = 313, Level = LogLevel.Debug, Message = "WebSocket connection {Connection} failed: {Error}")]
    public static partial void ConnectionFailed(ILogger logger, string connection, string error);
}

/// <summary>A close status with its number, for logs (the enum has no name for every code).</summary>
internal readonly record struct WebSocketCloseStatusName(int Code)
{
    public override string ToString() => Enum.IsDefined((System.Net.WebSockets.WebSocketCloseStatus)Code)
        ? $"{Code} ({(System.Net.WebSockets.WebSocketCloseStatus)Code})"
        : Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
