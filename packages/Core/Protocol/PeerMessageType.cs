namespace Ataraxia.Protocol;

/// <summary>The tag that starts every peer message on the wire (WIRE.md §3.1).</summary>
public enum PeerMessageType : byte
{
    /// <summary>Liveness probe; answered with <see cref="Pong"/>.</summary>
    Ping = 0,

    /// <summary>Answer to <see cref="Ping"/>.</summary>
    Pong = 1,

    /// <summary>Application data routed through the mesh.</summary>
    Data = 2,

    /// <summary>The next hop accepted a <see cref="Data"/> message.</summary>
    DataAck = 3,

    /// <summary>The next hop could not forward a <see cref="Data"/> message.</summary>
    DataReject = 4,

    /// <summary>Negotiation step accepted.</summary>
    Ok = 10,

    /// <summary>Negotiation step refused (carries no reason).</summary>
    Reject = 11,

    /// <summary>First message of the server: its node id.</summary>
    Hello = 12,

    /// <summary>Answer of the client to <see cref="Hello"/>: its node id.</summary>
    Select = 13,

    /// <summary>Client starts authentication with a method.</summary>
    Auth = 14,

    /// <summary>One round of authentication data.</summary>
    AuthData = 15,

    /// <summary>Client ends negotiation; the session is active.</summary>
    Begin = 16,

    /// <summary>Graceful close.</summary>
    Bye = 17,

    /// <summary>Versions of the nodes the sender knows.</summary>
    NodeSummary = 18,

    /// <summary>Request for the details of some nodes.</summary>
    NodeRequest = 19,

    /// <summary>Neighbours and latencies of some nodes.</summary>
    NodeDetails = 20,
}
