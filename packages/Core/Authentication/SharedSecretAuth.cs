using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Ataraxia.Cbor;

namespace Ataraxia.Authentication;

/// <summary>
/// The <c>shared-secret</c> method (WIRE.md §6.2): both sides prove knowledge of a secret with HMAC-SHA256 over
/// a fresh 16-byte challenge from the other side, bound to the transport channel when it has public security.
/// </summary>
/// <remarks>
/// <para>
/// Proofs are created as <c>HMAC(secret, challenge ‖ Ks)</c>, with <c>Ks</c> the server's public security bytes
/// (empty on transports without them). JavaScript 0.12 creates its proofs with the client's key <c>Kc</c>
/// instead (§6.3); to interoperate, proofs built with <c>Kc</c> are accepted too unless
/// <see cref="SharedSecretAuthOptions.AcceptClientKeyProofs"/> is turned off. Proofs are compared in constant time.
/// </para>
/// <para>The secret never leaves the process; it is kept in a private copy.</para>
/// <para>
/// Both sides refuse a challenge that the same local node issued through this provider and is still waiting on.
/// Without that, on a channel without public security an attacker could reflect a node's challenge back to it
/// on a second connection and use the node's own answer as its proof.
/// </para>
/// </remarks>
public sealed class SharedSecretAuth : IAuthProvider
{
    private const int ChallengeLength = 16;
    private const int ProofLength = 32;
    private const ulong Version = 1;

    private readonly byte[] _secret;
    private readonly SharedSecretAuthOptions _options;
    private readonly Func<byte[]> _createChallenge;
    private readonly OutstandingChallenges _outstanding = new();

    /// <summary>Creates the provider with a binary secret.</summary>
    /// <param name="secret">The secret; at least one byte.</param>
    /// <param name="options">Options; <see langword="null"/> for the defaults.</param>
    public SharedSecretAuth(ReadOnlySpan<byte> secret, SharedSecretAuthOptions? options = null)
        : this(secret, options, static () => RandomNumberGenerator.GetBytes(ChallengeLength))
    {
    }

    /// <summary>Creates the provider with a text secret, used as its UTF-8 bytes (as JavaScript does).</summary>
    /// <param name="secret">The secret; not empty.</param>
    /// <param name="options">Options; <see langword="null"/> for the defaults.</param>
    public SharedSecretAuth(string secret, SharedSecretAuthOptions? options = null)
        : this(Encoding.UTF8.GetBytes(secret ?? throw new ArgumentNullException(nameof(secret))), options)
    {
    }

    // Lets tests pin the challenges to reproduce the JavaScript vectors.
    internal SharedSecretAuth(ReadOnlySpan<byte> secret, SharedSecretAuthOptions? options, Func<byte[]> createChallenge)
    {
        if (secret.IsEmpty)
        {
            throw new ArgumentException("The secret must not be empty.", nameof(secret));
        }

        _secret = secret.ToArray();
        _options = options ?? new SharedSecretAuthOptions();
        _createChallenge = createChallenge;
    }

    /// <inheritdoc />
    public string Id => "shared-secret";

    /// <inheritdoc />
    public IAuthClientFlow? CreateClientFlow(AuthContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new ClientFlow(this, context);
    }

    /// <inheritdoc />
    public IAuthServerFlow? CreateServerFlow(AuthContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new ServerFlow(this, context);
    }

    private byte[] IssueChallenge(AuthContext context)
    {
        byte[] challenge = _createChallenge();
        _outstanding.Add(context.LocalId, challenge);
        return challenge;
    }

    private byte[] CreateProof(ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> security)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret);
        hmac.AppendData(challenge);
        hmac.AppendData(security);
        return hmac.GetHashAndReset();
    }

    private bool VerifyProof(ReadOnlySpan<byte> proof, ReadOnlySpan<byte> challenge, AuthContext context)
    {
        byte[] expected = CreateProof(challenge, context.ServerSecurity.Span);
        bool valid = CryptographicOperations.FixedTimeEquals(proof, expected);
        if (_options.AcceptClientKeyProofs && !context.ClientSecurity.IsEmpty)
        {
            byte[] legacy = CreateProof(challenge, context.ClientSecurity.Span);

            // Non-short-circuiting: both comparisons always run.
            valid |= CryptographicOperations.FixedTimeEquals(proof, legacy);
        }

        return valid;
    }

    private static byte[] Encode(Action<CborWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        write(new CborWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private sealed class ClientFlow(SharedSecretAuth provider, AuthContext context) : IAuthClientFlow
    {
        private readonly byte[] _challenge = provider.IssueChallenge(context);
        private bool _answered;

        public ReadOnlyMemory<byte> InitialMessage => Encode(w =>
        {
            w.WriteUInt64(Version);
            w.WriteByteString(_challenge);
        });

        public ValueTask<AuthResult> ReceiveAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (_answered)
            {
                throw new ProtocolException("The server sent more shared-secret data than the method has rounds.");
            }

            _answered = true;
            provider._outstanding.Remove(context.LocalId, _challenge);
            ReadOnlySpan<byte> serverChallenge;
            ReadOnlySpan<byte> serverProof;
            try
            {
                var reader = new CborReader(data.Span);
                ulong version = reader.ReadUInt64();
                if (version != Version)
                {
                    throw new ProtocolException($"The server uses shared-secret version {version}; only version 1 is supported.");
                }

                serverChallenge = reader.ReadByteString();
                serverProof = reader.ReadByteString();
            }
            catch (CborException ex)
            {
                throw new ProtocolException("The server's shared-secret data is malformed.", ex);
            }

            if (serverProof.Length != ProofLength || provider._outstanding.Contains(context.LocalId, serverChallenge) || !provider.VerifyProof(serverProof, _challenge, context))
            {
                // The server does not know the secret (or sits between us and the real server).
                return ValueTask.FromResult(AuthResult.Reject);
            }

            byte[] proof = provider.CreateProof(serverChallenge, context.ServerSecurity.Span);
            return ValueTask.FromResult(AuthResult.Continue(Encode(w => w.WriteByteString(proof))));
        }
    }

    private sealed class ServerFlow(SharedSecretAuth provider, AuthContext context) : IAuthServerFlow
    {
        private byte[]? _challenge;
        private bool _done;

        public ValueTask<AuthResult> ReceiveAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            return ValueTask.FromResult(_done ? AuthResult.Reject : _challenge is null ? Start(data.Span) : Finish(data.Span));
        }

        private AuthResult Start(ReadOnlySpan<byte> data)
        {
            ReadOnlySpan<byte> clientChallenge;
            try
            {
                var reader = new CborReader(data);
                if (reader.ReadUInt64() != Version)
                {
                    _done = true;
                    return AuthResult.Reject;
                }

                clientChallenge = reader.ReadByteString();
            }
            catch (CborException)
            {
                _done = true;
                return AuthResult.Reject;
            }

            if (provider._outstanding.Contains(context.LocalId, clientChallenge))
            {
                // Our own challenge reflected back at us: answering would hand the proof to whoever asked.
                _done = true;
                return AuthResult.Reject;
            }

            _challenge = provider.IssueChallenge(context);
            byte[] proof = provider.CreateProof(clientChallenge, context.ServerSecurity.Span);
            byte[] challenge = _challenge;
            return AuthResult.Continue(Encode(w =>
            {
                w.WriteUInt64(Version);
                w.WriteByteString(challenge);
                w.WriteByteString(proof);
            }));
        }

        private AuthResult Finish(ReadOnlySpan<byte> data)
        {
            _done = true;
            provider._outstanding.Remove(context.LocalId, _challenge!);
            try
            {
                var reader = new CborReader(data);
                ReadOnlySpan<byte> clientProof = reader.ReadByteString();
                return clientProof.Length == ProofLength && provider.VerifyProof(clientProof, _challenge!, context)
                    ? AuthResult.Ok
                    : AuthResult.Reject;
            }
            catch (CborException)
            {
                return AuthResult.Reject;
            }
        }
    }
}

/// <summary>Challenges a provider issued and still waits on, per local node, bounded in number and age.</summary>
internal sealed class OutstandingChallenges
{
    private const int MaxEntries = 4096;
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, long> _issued = new(StringComparer.Ordinal);

    public void Add(NodeId node, byte[] challenge)
    {
        lock (_issued)
        {
            if (_issued.Count >= MaxEntries)
            {
                Prune();
            }

            _issued[Key(node, challenge)] = Environment.TickCount64;
        }
    }

    public void Remove(NodeId node, byte[] challenge)
    {
        lock (_issued)
        {
            _issued.Remove(Key(node, challenge));
        }
    }

    public bool Contains(NodeId node, ReadOnlySpan<byte> challenge)
    {
        string key = Key(node, challenge);
        lock (_issued)
        {
            return _issued.TryGetValue(key, out long issuedAt) && Environment.TickCount64 - issuedAt < MaxAge.TotalMilliseconds;
        }
    }

    private static string Key(NodeId node, ReadOnlySpan<byte> challenge) => $"{node}:{Convert.ToHexString(challenge)}";

    // Flows of connections that dropped mid-way never remove their challenge; age bounds them.
    private void Prune()
    {
        long now = Environment.TickCount64;
        foreach (KeyValuePair<string, long> entry in _issued.ToList())
        {
            if (now - entry.Value >= MaxAge.TotalMilliseconds || _issued.Count >= MaxEntries)
            {
                _issued.Remove(entry.Key);
            }
        }
    }
}

/// <summary>Options of <see cref="SharedSecretAuth"/>.</summary>
public sealed record SharedSecretAuthOptions
{
    /// <summary>
    /// Gets a value indicating whether proofs built with the client's public security bytes are accepted in
    /// addition to proofs built with the server's.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>: JavaScript 0.12 builds its proofs that way (WIRE.md §6.3), so turning
    /// this off breaks shared-secret authentication with JavaScript nodes on encrypted transports. Turn it off in
    /// meshes of .NET nodes only: then a proof can only be valid for the server's key, which also rules out
    /// reflecting a challenge to a node that uses the same key in both roles.
    /// </remarks>
    public bool AcceptClientKeyProofs { get; init; } = true;
}
