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

    /// <summary>Checks the overrides an options record gives for its sessions.</summary>
    /// <remarks>Errors name the options' properties, which is what the user set, not this method's parameters.</remarks>
#pragma warning disable CA2208
    public static void ValidateOverrides(
        IReadOnlyList<IAuthProvider>? authentication,
        long? maxMessageSize,
        TimeSpan? negotiationTimeout,
        TimeSpan keepAliveInterval,
        TimeSpan keepAliveTimeout)
    {
        if (authentication is { Count: 0 })
        {
            throw new ArgumentException("Give at least one authentication provider, or null to use the network's.", "Authentication");
        }

        if (maxMessageSize is long max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, 64, "MaxMessageSize");
            ArgumentOutOfRangeException.ThrowIfGreaterThan(max, Array.MaxLength - 1, "MaxMessageSize");
        }

        if (negotiationTimeout is TimeSpan negotiation)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(negotiation, TimeSpan.Zero, "NegotiationTimeout");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(keepAliveInterval, TimeSpan.Zero, "KeepAliveInterval");
        if (keepAliveTimeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(keepAliveTimeout, TimeSpan.Zero, "KeepAliveTimeout");
        }
    }
#pragma warning restore CA2208
}
