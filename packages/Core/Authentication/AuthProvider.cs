using Ataraxia.Protocol;

namespace Ataraxia.Authentication;

/// <summary>
/// An authentication method, identified on the wire by <see cref="Id"/> (WIRE.md §6).
/// </summary>
/// <remarks>
/// <para>
/// A provider creates one flow per connection attempt. The client offers its providers in the configured
/// order; the server accepts the methods it has a provider for and answers REJECT to the others. Flows run
/// during negotiation, one message at a time; implementations need not be thread-safe per flow, but the
/// provider itself is shared by all connections.
/// </para>
/// <para>
/// Flows run on the connection's read loop while it negotiates, and every step must finish within the
/// negotiation timeout: keep them short, and make slow checks (a token service, a database) asynchronous.
/// </para>
/// </remarks>
public interface IAuthProvider
{
    /// <summary>Gets the method name sent in AUTH, for example <c>anonymous</c> or <c>shared-secret</c>.</summary>
    string Id { get; }

    /// <summary>Creates the client side of a flow, or returns <see langword="null"/> when this provider cannot act as client.</summary>
    /// <param name="context">The connection being authenticated.</param>
    /// <returns>A new flow, or <see langword="null"/>.</returns>
    IAuthClientFlow? CreateClientFlow(AuthContext context);

    /// <summary>Creates the server side of a flow, or returns <see langword="null"/> when this provider cannot act as server.</summary>
    /// <param name="context">The connection being authenticated.</param>
    /// <returns>A new flow, or <see langword="null"/>.</returns>
    IAuthServerFlow? CreateServerFlow(AuthContext context);
}

/// <summary>The client side of one authentication attempt.</summary>
public interface IAuthClientFlow
{
    /// <summary>Gets the data sent with AUTH.</summary>
    ReadOnlyMemory<byte> InitialMessage { get; }

    /// <summary>Handles AUTH_DATA from the server.</summary>
    /// <param name="data">The server's data.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends or negotiation times out.</param>
    /// <returns><see cref="AuthResult.Continue"/> to answer with AUTH_DATA, or <see cref="AuthResult.Reject"/> to give up on this provider.</returns>
    /// <exception cref="ProtocolException">The server's data is malformed; the connection is closed.</exception>
    ValueTask<AuthResult> ReceiveAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);
}

/// <summary>The server side of one authentication attempt.</summary>
public interface IAuthServerFlow
{
    /// <summary>Handles the data of AUTH (first call) or AUTH_DATA (later calls) from the client.</summary>
    /// <param name="data">The client's data.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends or negotiation times out.</param>
    /// <returns><see cref="AuthResult.Ok"/>, <see cref="AuthResult.Reject"/> or <see cref="AuthResult.Continue"/>.</returns>
    ValueTask<AuthResult> ReceiveAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);
}

/// <summary>What an authentication flow decided after a message.</summary>
public enum AuthOutcome
{
    /// <summary>Authenticated (server only).</summary>
    Ok,

    /// <summary>Refused; the client may try its next provider.</summary>
    Reject,

    /// <summary>Another round: send <see cref="AuthResult.Data"/> as AUTH_DATA.</summary>
    Continue,
}

/// <summary>The result of one step of an authentication flow.</summary>
public readonly struct AuthResult
{
    private AuthResult(AuthOutcome outcome, ReadOnlyMemory<byte> data)
    {
        Outcome = outcome;
        Data = data;
    }

    /// <summary>Gets the result that accepts the peer.</summary>
    public static AuthResult Ok => new(AuthOutcome.Ok, default);

    /// <summary>Gets the result that refuses the peer.</summary>
    public static AuthResult Reject => new(AuthOutcome.Reject, default);

    /// <summary>Gets what the flow decided.</summary>
    public AuthOutcome Outcome { get; }

    /// <summary>Gets the data to send when <see cref="Outcome"/> is <see cref="AuthOutcome.Continue"/>.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Creates a result that sends <paramref name="data"/> as AUTH_DATA.</summary>
    /// <param name="data">The data.</param>
    /// <returns>The result.</returns>
    public static AuthResult Continue(ReadOnlyMemory<byte> data) => new(AuthOutcome.Continue, data);
}

/// <summary>The connection an authentication flow runs on.</summary>
public sealed class AuthContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="role">Whether the local side accepted (server) or opened (client) the connection.</param>
    /// <param name="localId">The local node id.</param>
    /// <param name="remoteId">The node id the peer claimed in HELLO/SELECT.</param>
    /// <param name="security">The transport's public security bytes, or <see langword="null"/> when it has none.</param>
    public AuthContext(PeerRole role, NodeId localId, NodeId remoteId, PeerChannelSecurity? security)
    {
        Role = role;
        LocalId = localId;
        RemoteId = remoteId;
        Security = security;
    }

    /// <summary>Gets the local role on this connection.</summary>
    public PeerRole Role { get; }

    /// <summary>Gets the local node id.</summary>
    public NodeId LocalId { get; }

    /// <summary>Gets the node id the peer claimed. Nothing on the wire proves it.</summary>
    public NodeId RemoteId { get; }

    /// <summary>Gets the transport's public security bytes, used to bind proofs to the channel.</summary>
    public PeerChannelSecurity? Security { get; }

    /// <summary>Gets the server's public security bytes (Ks), or empty.</summary>
    public ReadOnlyMemory<byte> ServerSecurity => Security is null ? default : Role == PeerRole.Server ? Security.Local : Security.Remote;

    /// <summary>Gets the client's public security bytes (Kc), or empty.</summary>
    public ReadOnlyMemory<byte> ClientSecurity => Security is null ? default : Role == PeerRole.Client ? Security.Local : Security.Remote;
}
