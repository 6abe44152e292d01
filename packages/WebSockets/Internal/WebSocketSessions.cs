using Ataraxia.Authentication;
using Ataraxia.Protocol;

namespace Ataraxia.WebSockets.Internal;

/// <summary>Session settings shared by the WebSocket client and server.</summary>
internal static class WebSocketSessions
{
    /// <summary>Applies WIRE.md §4.4 (no BYE, unknown tags ignored) and a transport's overrides.</summary>
    public static PeerSessionOptions Configure(
        PeerSessionOptions options,
        IReadOnlyList<IAuthProvider>? authentication,
        long? maxMessageSize,
        TimeSpan? negotiationTimeout) => options with
        {
            SendByeOnClose = false,
            IgnoreUnknownMessageTypes = true,
            AuthProviders = authentication ?? options.AuthProviders,
            MaxFrameSize = maxMessageSize ?? options.MaxFrameSize,
            NegotiationTimeout = negotiationTimeout ?? options.NegotiationTimeout,
        };
}
