namespace Ataraxia;

/// <summary>Why a peer session ended. Reasons are local: the wire carries none (WIRE.md §8.3).</summary>
public enum PeerDisconnectReason
{
    /// <summary>The session has not ended.</summary>
    None = 0,

    /// <summary>The local side closed the session.</summary>
    Manual,

    /// <summary>The remote side sent BYE.</summary>
    RemoteBye,

    /// <summary>The remote side closed the connection without BYE.</summary>
    RemoteClosed,

    /// <summary>Negotiation did not finish a step within the negotiation timeout.</summary>
    NegotiationTimeout,

    /// <summary>Authentication failed: every provider was rejected, or the peer's proof was wrong.</summary>
    AuthenticationFailed,

    /// <summary>The remote side stopped sending pings.</summary>
    PingTimeout,

    /// <summary>The remote side sent bytes that violate the protocol (including oversized frames).</summary>
    ProtocolError,

    /// <summary>Reading from or writing to the transport failed.</summary>
    TransportError,
}
