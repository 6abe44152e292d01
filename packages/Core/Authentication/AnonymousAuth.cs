namespace Ataraxia.Authentication;

/// <summary>
/// The <c>anonymous</c> method: AUTH with empty data, accepted by any server that lists this provider
/// (WIRE.md §6.1). Use it only where every party that can reach the transport may join.
/// </summary>
public sealed class AnonymousAuth : IAuthProvider
{
    private static readonly ValueTask<AuthResult> OkResult = new(AuthResult.Ok);
    private static readonly ValueTask<AuthResult> RejectResult = new(AuthResult.Reject);

    private AnonymousAuth()
    {
    }

    /// <summary>Gets the shared instance.</summary>
    public static AnonymousAuth Instance { get; } = new();

    /// <inheritdoc />
    public string Id => "anonymous";

    /// <inheritdoc />
    public IAuthClientFlow? CreateClientFlow(AuthContext context) => ClientFlow.Instance;

    /// <inheritdoc />
    public IAuthServerFlow? CreateServerFlow(AuthContext context) => ServerFlow.Instance;

    private sealed class ClientFlow : IAuthClientFlow
    {
        public static readonly ClientFlow Instance = new();

        public ReadOnlyMemory<byte> InitialMessage => ReadOnlyMemory<byte>.Empty;

        // The server never sends AUTH_DATA for this method.
        public ValueTask<AuthResult> ReceiveAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => RejectResult;
    }

    private sealed class ServerFlow : IAuthServerFlow
    {
        public static readonly ServerFlow Instance = new();

        public ValueTask<AuthResult> ReceiveAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            data.IsEmpty ? OkResult : RejectResult;
    }
}
