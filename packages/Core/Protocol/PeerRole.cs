namespace Ataraxia.Protocol;

/// <summary>
/// The "public security" of a transport channel (WIRE.md §6.3): public keys that identify the two ends of an
/// encrypted channel, so that authentication proofs can be bound to it. A man in the middle who terminates the
/// encryption on both sides sees different keys and fails authentication.
/// </summary>
/// <param name="Local">The local end's public key bytes.</param>
/// <param name="Remote">The remote end's public key bytes.</param>
public sealed record PeerChannelSecurity(ReadOnlyMemory<byte> Local, ReadOnlyMemory<byte> Remote);

/// <summary>Which side of a connection the local node is.</summary>
public enum PeerRole
{
    /// <summary>The side that opened the connection; it answers HELLO with SELECT and authenticates.</summary>
    Client,

    /// <summary>The side that accepted the connection; it sends HELLO and verifies the client.</summary>
    Server,
}
