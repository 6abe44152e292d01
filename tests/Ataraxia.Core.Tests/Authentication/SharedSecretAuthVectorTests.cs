using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ataraxia.Authentication;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Authentication;

/// <summary>
/// The <c>auth/*</c> vectors (WIRE.md §6): the shared-secret exchange byte for byte against the JavaScript flows,
/// the channel binding with Noise keys (§6.3), HMAC-SHA256, anonymous and a bad version; plus how both flows deal
/// with wrong secrets and malformed data.
/// </summary>
public sealed class SharedSecretAuthVectorTests
{
    private static readonly NodeId ServerId = new(Convert.FromHexString("112233445566478899aabbccddeeff00"));
    private static readonly NodeId ClientId = new(Convert.FromHexString("0123456789ab4def8123456789abcdef"));

    [Fact]
    public void AuthCategoryHasAllVectors()
    {
        Assert.Equal(
            ["auth/anonymous", "auth/hmac-sha256", "auth/shared-secret/bad-version", "auth/shared-secret/plain", "auth/shared-secret/with-noise-keys"],
            Vectors.InCategory("auth").Select(v => v.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task PlainFlowsAgainstEachOtherReproduceTheVector()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        byte[] secret = Hex(vector, "secret_hex");
        Assert.Equal(Encoding.UTF8.GetBytes(vector.GetProperty("secret_utf8").GetString()!), secret);
        var clientChallenges = new PinnedChallenges(Hex(vector, "client_challenge_hex"));
        var serverChallenges = new PinnedChallenges(Hex(vector, "server_challenge_hex"));
        var clientProvider = new SharedSecretAuth(secret, null, clientChallenges.Next);
        var serverProvider = new SharedSecretAuth(secret, null, serverChallenges.Next);
        Assert.Equal("shared-secret", clientProvider.Id);

        IAuthClientFlow client = clientProvider.CreateClientFlow(ClientContext(null))!;
        IAuthServerFlow server = serverProvider.CreateServerFlow(ServerContext(null))!;

        ReadOnlyMemory<byte> initial = client.InitialMessage;
        AssertHex(vector, "client_initial_auth_data_hex", initial);

        AuthResult serverReply = await server.ReceiveAsync(initial, CancellationToken.None);
        Assert.Equal(AuthOutcome.Continue, serverReply.Outcome);
        AssertHex(vector, "server_auth_data_hex", serverReply.Data);

        AuthResult clientReply = await client.ReceiveAsync(serverReply.Data, CancellationToken.None);
        Assert.Equal(AuthOutcome.Continue, clientReply.Outcome);
        AssertHex(vector, "client_auth_data_hex", clientReply.Data);

        AuthResult final = await server.ReceiveAsync(clientReply.Data, CancellationToken.None);
        Assert.Equal(AuthOutcome.Ok, final.Outcome);
        Assert.Equal("Ok", vector.GetProperty("server_final_type").GetString());

        // Each flow asks its provider for exactly one challenge.
        Assert.Equal(1, clientChallenges.Calls);
        Assert.Equal(1, serverChallenges.Calls);

        // The messages carrying the exchange are the JS frames.
        PeerMessage[] messages =
        [
            new PeerAuth(clientProvider.Id, initial),
            new PeerAuthData(serverReply.Data),
            new PeerAuthData(clientReply.Data),
            PeerSignal.Ok,
            PeerSignal.Begin,
        ];
        JsonElement[] frames = [.. vector.GetProperty("frames").EnumerateArray()];
        Assert.Equal(messages.Length, frames.Length);
        for (int i = 0; i < frames.Length; i++)
        {
            Assert.Equal(frames[i].GetProperty("type").GetString(), messages[i].Type.ToString());
            Assert.Equal(frames[i].GetProperty("message_hex").GetString(), Convert.ToHexStringLower(PeerMessageCodec.Encode(messages[i])));
            var frame = new ArrayBufferWriter<byte>();
            PeerMessageCodec.WriteFrame(messages[i], frame);
            Assert.Equal(frames[i].GetProperty("stream_frame_hex").GetString(), Convert.ToHexStringLower(frame.WrittenSpan));
        }
    }

    [Fact]
    public async Task PlainFlowsAnswerTheVectorBytes()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        byte[] secret = Hex(vector, "secret_hex");

        // Our server, given the JS client's AUTH data, answers with the JS server's blob.
        IAuthServerFlow server = PinnedProvider(secret, Hex(vector, "server_challenge_hex")).CreateServerFlow(ServerContext(null))!;
        AuthResult serverReply = await server.ReceiveAsync(Hex(vector, "client_initial_auth_data_hex"), CancellationToken.None);
        Assert.Equal(AuthOutcome.Continue, serverReply.Outcome);
        AssertHex(vector, "server_auth_data_hex", serverReply.Data);

        // ... and accepts the JS client's proof.
        AuthResult final = await server.ReceiveAsync(Hex(vector, "client_auth_data_hex"), CancellationToken.None);
        Assert.Equal(AuthOutcome.Ok, final.Outcome);

        // Our client, given the JS server's blob, answers with the JS client's proof.
        IAuthClientFlow client = PinnedProvider(secret, Hex(vector, "client_challenge_hex")).CreateClientFlow(ClientContext(null))!;
        AssertHex(vector, "client_initial_auth_data_hex", client.InitialMessage);
        AuthResult clientReply = await client.ReceiveAsync(Hex(vector, "server_auth_data_hex"), CancellationToken.None);
        Assert.Equal(AuthOutcome.Continue, clientReply.Outcome);
        AssertHex(vector, "client_auth_data_hex", clientReply.Data);

        // The proofs are plain HMAC-SHA256 over the other side's challenge.
        Assert.Equal(Hex(vector, "server_proof_hex"), HMACSHA256.HashData(secret, Hex(vector, "server_proof_hmac_input_hex")));
        Assert.Equal(Hex(vector, "client_proof_hex"), HMACSHA256.HashData(secret, Hex(vector, "client_proof_hmac_input_hex")));
        Assert.Equal(Hex(vector, "server_proof_hmac_input_hex"), Hex(vector, "client_challenge_hex"));
        Assert.Equal(Hex(vector, "client_proof_hmac_input_hex"), Hex(vector, "server_challenge_hex"));
    }

    [Fact]
    public async Task OneProviderInstanceServesBothRoles()
    {
        // A node uses one provider for the connections it opens and those it accepts; the challenges are drawn in
        // the order the flows need them (client: when the flow is created, server: when AUTH arrives).
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        var challenges = new PinnedChallenges(Hex(vector, "client_challenge_hex"), Hex(vector, "server_challenge_hex"));
        var provider = new SharedSecretAuth(Hex(vector, "secret_hex"), null, challenges.Next);

        IAuthClientFlow client = provider.CreateClientFlow(ClientContext(null))!;
        IAuthServerFlow server = provider.CreateServerFlow(ServerContext(null))!;
        AuthResult serverReply = await server.ReceiveAsync(client.InitialMessage, CancellationToken.None);
        AssertHex(vector, "server_auth_data_hex", serverReply.Data);
        AuthResult clientReply = await client.ReceiveAsync(serverReply.Data, CancellationToken.None);
        AssertHex(vector, "client_auth_data_hex", clientReply.Data);
        Assert.Equal(AuthOutcome.Ok, (await server.ReceiveAsync(clientReply.Data, CancellationToken.None)).Outcome);
        Assert.Equal(2, challenges.Calls);
    }

    [Fact]
    public async Task PublicConstructorsUseRandomChallengesAndTheUtf8Secret()
    {
        var textSecret = new SharedSecretAuth("s3cret");
        var byteSecret = new SharedSecretAuth(Encoding.UTF8.GetBytes("s3cret"));
        Assert.Equal(AuthOutcome.Ok, await RunAsync(textSecret, byteSecret, ClientContext(null), ServerContext(null)));
        Assert.Equal(AuthOutcome.Ok, await RunAsync(byteSecret, textSecret, ClientContext(null), ServerContext(null)));

        // Challenges are fresh 16-byte values: two flows never start with the same AUTH data.
        byte[] first = textSecret.CreateClientFlow(ClientContext(null))!.InitialMessage.ToArray();
        byte[] second = textSecret.CreateClientFlow(ClientContext(null))!.InitialMessage.ToArray();
        Assert.Equal(18, first.Length);
        Assert.Equal([0x01, 0x50], first[..2]);
        Assert.NotEqual(first, second);

        Assert.Throws<ArgumentException>(() => new SharedSecretAuth(ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentNullException>(() => new SharedSecretAuth((string)null!));
    }

    [Fact]
    public async Task NoiseKeysBindTheProofsToTheServerKey()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/with-noise-keys");
        byte[] secret = Encoding.UTF8.GetBytes(vector.GetProperty("secret_utf8").GetString()!);
        byte[] cc = Hex(vector, "client_challenge_hex");
        byte[] sc = Hex(vector, "server_challenge_hex");
        byte[] kc = Hex(vector, "client_static_public_key_Kc");
        byte[] ks = Hex(vector, "server_static_public_key_Ks");

        // The recorded HMACs are HMAC(secret, challenge ‖ key).
        Assert.Equal(Hex(vector, "hmac_challenge_then_Kc_for_client_challenge"), HMACSHA256.HashData(secret, Concat(cc, kc)));
        Assert.Equal(Hex(vector, "hmac_challenge_then_Ks_for_client_challenge"), HMACSHA256.HashData(secret, Concat(cc, ks)));
        Assert.Equal(Hex(vector, "hmac_challenge_then_Kc_for_server_challenge"), HMACSHA256.HashData(secret, Concat(sc, kc)));
        Assert.Equal(Hex(vector, "hmac_challenge_then_Ks_for_server_challenge"), HMACSHA256.HashData(secret, Concat(sc, ks)));

        AuthContext clientContext = ClientContext(new PeerChannelSecurity(kc, ks));
        AuthContext serverContext = ServerContext(new PeerChannelSecurity(ks, kc));
        Assert.Equal(ks, serverContext.ServerSecurity.ToArray());
        Assert.Equal(kc, serverContext.ClientSecurity.ToArray());
        Assert.Equal(ks, clientContext.ServerSecurity.ToArray());
        Assert.Equal(kc, clientContext.ClientSecurity.ToArray());

        // Our flows against each other: the server proves with Ks (the blob the JS client accepts), the client too.
        IAuthClientFlow client = PinnedProvider(secret, cc).CreateClientFlow(clientContext)!;
        IAuthServerFlow server = PinnedProvider(secret, sc).CreateServerFlow(serverContext)!;
        AuthResult serverReply = await server.ReceiveAsync(client.InitialMessage, CancellationToken.None);
        AssertHex(vector, "compatible_server_auth_data_hex", serverReply.Data);
        Assert.Equal("Data", vector.GetProperty("js_client_verdict_on_compatible_server").GetString());
        AuthResult clientReply = await client.ReceiveAsync(serverReply.Data, CancellationToken.None);
        Assert.Equal(AuthOutcome.Continue, clientReply.Outcome);
        AssertHex(vector, "compatible_client_auth_data_hex", clientReply.Data);
        Assert.Equal("Ok", vector.GetProperty("js_server_verdict_on_compatible_client").GetString());
        Assert.Equal(AuthOutcome.Ok, (await server.ReceiveAsync(clientReply.Data, CancellationToken.None)).Outcome);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ClientAcceptsTheJsServerProofOnlyWhenClientKeyProofsAreAccepted(bool acceptClientKeyProofs)
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/with-noise-keys");
        byte[] secret = Encoding.UTF8.GetBytes(vector.GetProperty("secret_utf8").GetString()!);
        var options = new SharedSecretAuthOptions { AcceptClientKeyProofs = acceptClientKeyProofs };
        AuthContext context = ClientContext(new PeerChannelSecurity(Hex(vector, "client_static_public_key_Kc"), Hex(vector, "server_static_public_key_Ks")));

        // The JS server proves with Kc (which the JS client itself rejects, see js_client_verdict_on_js_server).
        Assert.Equal("Reject", vector.GetProperty("js_client_verdict_on_js_server").GetString());
        IAuthClientFlow client = new SharedSecretAuth(secret, options, new PinnedChallenges(Hex(vector, "client_challenge_hex")).Next).CreateClientFlow(context)!;
        AuthResult reply = await client.ReceiveAsync(Hex(vector, "js_server_auth_data_hex"), CancellationToken.None);

        if (acceptClientKeyProofs)
        {
            // Our answer is the Ks-based proof, which the JS server accepts.
            Assert.Equal(AuthOutcome.Continue, reply.Outcome);
            AssertHex(vector, "compatible_client_auth_data_hex", reply.Data);
        }
        else
        {
            Assert.Equal(AuthOutcome.Reject, reply.Outcome);
        }

        // The Ks-based blob is accepted either way.
        IAuthClientFlow strict = new SharedSecretAuth(secret, options, new PinnedChallenges(Hex(vector, "client_challenge_hex")).Next).CreateClientFlow(context)!;
        AuthResult compatible = await strict.ReceiveAsync(Hex(vector, "compatible_server_auth_data_hex"), CancellationToken.None);
        Assert.Equal(AuthOutcome.Continue, compatible.Outcome);
        AssertHex(vector, "compatible_client_auth_data_hex", compatible.Data);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ServerAcceptsTheJsClientProofOnlyWhenClientKeyProofsAreAccepted(bool acceptClientKeyProofs)
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/with-noise-keys");
        byte[] secret = Encoding.UTF8.GetBytes(vector.GetProperty("secret_utf8").GetString()!);
        var options = new SharedSecretAuthOptions { AcceptClientKeyProofs = acceptClientKeyProofs };
        AuthContext context = ServerContext(new PeerChannelSecurity(Hex(vector, "server_static_public_key_Ks"), Hex(vector, "client_static_public_key_Kc")));
        byte[] initial = [0x01, 0x50, .. Hex(vector, "client_challenge_hex")];

        async Task<AuthOutcome> FinishWith(string proofField)
        {
            IAuthServerFlow server = new SharedSecretAuth(secret, options, new PinnedChallenges(Hex(vector, "server_challenge_hex")).Next).CreateServerFlow(context)!;
            AuthResult reply = await server.ReceiveAsync(initial, CancellationToken.None);
            Assert.Equal(AuthOutcome.Continue, reply.Outcome);
            AssertHex(vector, "compatible_server_auth_data_hex", reply.Data);
            return (await server.ReceiveAsync(Hex(vector, proofField), CancellationToken.None)).Outcome;
        }

        // The JS client proves with Kc (the JS server rejects it); we take it for interoperability unless told not to.
        Assert.Equal("Reject", vector.GetProperty("js_server_verdict_on_js_client").GetString());
        Assert.Equal(acceptClientKeyProofs ? AuthOutcome.Ok : AuthOutcome.Reject, await FinishWith("js_client_auth_data_hex"));
        Assert.Equal(AuthOutcome.Ok, await FinishWith("compatible_client_auth_data_hex"));
    }

    [Fact]
    public async Task ProofsWithoutTheChannelKeysAreRejectedOnAnEncryptedChannel()
    {
        // The plain exchange's blobs (no public security) stand for a man in the middle who terminates the
        // encryption: they are not bound to this channel's keys, so both sides refuse them.
        JsonElement plain = Vectors.Get("auth/shared-secret/plain");
        JsonElement noise = Vectors.Get("auth/shared-secret/with-noise-keys");
        byte[] secret = Hex(plain, "secret_hex");
        byte[] kc = Hex(noise, "client_static_public_key_Kc");
        byte[] ks = Hex(noise, "server_static_public_key_Ks");

        IAuthClientFlow client = PinnedProvider(secret, Hex(plain, "client_challenge_hex")).CreateClientFlow(ClientContext(new PeerChannelSecurity(kc, ks)))!;
        Assert.Equal(AuthOutcome.Reject, (await client.ReceiveAsync(Hex(plain, "server_auth_data_hex"), CancellationToken.None)).Outcome);

        IAuthServerFlow server = PinnedProvider(secret, Hex(plain, "server_challenge_hex")).CreateServerFlow(ServerContext(new PeerChannelSecurity(ks, kc)))!;
        Assert.Equal(AuthOutcome.Continue, (await server.ReceiveAsync(Hex(plain, "client_initial_auth_data_hex"), CancellationToken.None)).Outcome);
        Assert.Equal(AuthOutcome.Reject, (await server.ReceiveAsync(Hex(plain, "client_auth_data_hex"), CancellationToken.None)).Outcome);
    }

    [Fact]
    public void HmacSha256Vector()
    {
        JsonElement vector = Vectors.Get("auth/hmac-sha256");
        byte[] mac = HMACSHA256.HashData(Hex(vector, "key_hex"), Hex(vector, "message_hex"));
        AssertHex(vector, "hex", mac);
        AssertHex(vector, "node_crypto_hex", mac);

        // It is the server proof of the plain exchange, which our server reproduces in PlainFlowsAnswerTheVectorBytes.
        Assert.Equal(vector.GetProperty("hex").GetString(), Vectors.Get("auth/shared-secret/plain").GetProperty("server_proof_hex").GetString());
    }

    [Fact]
    public async Task AnonymousVector()
    {
        JsonElement vector = Vectors.Get("auth/anonymous");
        AnonymousAuth provider = AnonymousAuth.Instance;
        Assert.Equal("anonymous", provider.Id);

        IAuthClientFlow client = provider.CreateClientFlow(ClientContext(null))!;
        AssertHex(vector, "client_initial_hex", client.InitialMessage);

        var frame = new ArrayBufferWriter<byte>();
        PeerMessageCodec.WriteFrame(new PeerAuth(provider.Id, client.InitialMessage), frame);
        Assert.Equal(vector.GetProperty("auth_frame_hex").GetString(), Convert.ToHexStringLower(frame.WrittenSpan));

        IAuthServerFlow server = provider.CreateServerFlow(ServerContext(null))!;
        Assert.Equal(vector.GetProperty("server_verdict_on_empty").GetString(), (await server.ReceiveAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None)).Outcome.ToString());
        Assert.Equal(vector.GetProperty("server_verdict_on_one_byte").GetString(), (await server.ReceiveAsync(new byte[] { 0x00 }, CancellationToken.None)).Outcome.ToString());
        Assert.Equal(AuthOutcome.Reject, (await server.ReceiveAsync(new byte[] { 0x01, 0x50 }, CancellationToken.None)).Outcome);

        // The server never sends AUTH_DATA for this method; a client that gets some gives up on it.
        Assert.Equal(AuthOutcome.Reject, (await client.ReceiveAsync(new byte[] { 0x01 }, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task BadVersionVector()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/bad-version");
        IAuthServerFlow server = PinnedProvider("s3cret"u8.ToArray(), new byte[16]).CreateServerFlow(ServerContext(null))!;
        AuthResult result = await server.ReceiveAsync(Hex(vector, "client_initial_auth_data_hex"), CancellationToken.None);
        Assert.Equal(vector.GetProperty("server_verdict").GetString(), result.Outcome.ToString());

        // The attempt is over: a follow-up is refused too.
        byte[] proof = [0x58, 0x20, .. new byte[32]];
        Assert.Equal(AuthOutcome.Reject, (await server.ReceiveAsync(proof, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task WrongSecretMakesTheClientRejectTheServerProof()
    {
        var client = new SharedSecretAuth("s3cret");
        var server = new SharedSecretAuth("s3cret!");
        Assert.Equal(AuthOutcome.Reject, await RunAsync(client, server, ClientContext(null), ServerContext(null)));

        // The other way round: a server with another secret refuses the JS client's proof made with "s3cret".
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        IAuthServerFlow flow = PinnedProvider("s3cret!"u8.ToArray(), Hex(vector, "server_challenge_hex")).CreateServerFlow(ServerContext(null))!;
        Assert.Equal(AuthOutcome.Continue, (await flow.ReceiveAsync(Hex(vector, "client_initial_auth_data_hex"), CancellationToken.None)).Outcome);
        Assert.Equal(AuthOutcome.Reject, (await flow.ReceiveAsync(Hex(vector, "client_auth_data_hex"), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task TamperedClientProofIsRejected()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        byte[] proof = Hex(vector, "client_auth_data_hex");
        for (int position = 2; position < proof.Length; position++)
        {
            foreach (byte flip in new byte[] { 0x01, 0x80 })
            {
                byte[] tampered = (byte[])proof.Clone();
                tampered[position] ^= flip;
                Assert.Equal(AuthOutcome.Reject, await FinishPlainServerAsync(vector, tampered));
            }
        }

        // Sanity: the untouched proof passes the same path.
        Assert.Equal(AuthOutcome.Ok, await FinishPlainServerAsync(vector, proof));
    }

    [Fact]
    public async Task MalformedServerBlobMakesTheClientThrow()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        byte[] valid = Hex(vector, "server_auth_data_hex");

        // Every truncation of the valid blob cuts into an item, so none is well-formed.
        for (int length = 0; length < valid.Length; length++)
        {
            await AssertClientThrowsAsync(vector, valid[..length], $"truncated to {length}");
        }

        string[] malformed =
        [
            "02" + Convert.ToHexStringLower(valid)[2..], // version 2
            "00" + Convert.ToHexStringLower(valid)[2..], // version 0
            "20" + Convert.ToHexStringLower(valid)[2..], // version -1
            "f93c00" + Convert.ToHexStringLower(valid)[2..], // version as the float 1.0
            "61" + "31" + Convert.ToHexStringLower(valid)[2..], // version as text "1"
            "0170" + Convert.ToHexStringLower(valid)[4..], // challenge as text
            "0150101112131415161718191a1b1c1d1e1f7820" + Convert.ToHexStringLower(valid)[40..], // proof as text
            "01", // no challenge
            "015010111213141516171819 1a1b1c1d1e1f".Replace(" ", string.Empty, StringComparison.Ordinal), // no proof
            "ff",
            "1b",
        ];
        foreach (string hex in malformed)
        {
            await AssertClientThrowsAsync(vector, Convert.FromHexString(hex), hex);
        }

        // Random blobs: well-formed by chance they can only fail the proof check, otherwise they throw.
        var random = new Random(5);
        for (int i = 0; i < 500; i++)
        {
            byte[] blob = new byte[random.Next(0, 60)];
            random.NextBytes(blob);
            if (i % 3 == 0 && blob.Length > 0)
            {
                blob[0] = 0x01;
            }

            IAuthClientFlow client = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "client_challenge_hex")).CreateClientFlow(ClientContext(null))!;
            try
            {
                AuthResult result = await client.ReceiveAsync(blob, CancellationToken.None);
                Assert.True(result.Outcome == AuthOutcome.Reject, $"random blob {Convert.ToHexStringLower(blob)} gave {result.Outcome}");
            }
            catch (ProtocolException)
            {
            }
            catch (Exception ex)
            {
                Assert.Fail($"random blob {Convert.ToHexStringLower(blob)}: {ex}");
            }
        }
    }

    [Fact]
    public async Task WellFormedServerBlobWithAWrongSizeProofIsRejected()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        byte[] valid = Hex(vector, "server_auth_data_hex");
        byte[] proof = valid[^32..];
        byte[] head = valid[..^34];
        foreach (byte[] badProof in new byte[][] { proof[..31], [.. proof, 0x00], [], proof[..16] })
        {
            byte[] byteStringHead = badProof.Length < 24 ? [(byte)(0x40 | badProof.Length)] : [0x58, (byte)badProof.Length];
            byte[] blob = [.. head, .. byteStringHead, .. badProof];
            IAuthClientFlow client = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "client_challenge_hex")).CreateClientFlow(ClientContext(null))!;
            Assert.Equal(AuthOutcome.Reject, (await client.ReceiveAsync(blob, CancellationToken.None)).Outcome);
        }

        // Trailing bytes after the proof are ignored, as in JS.
        IAuthClientFlow trailing = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "client_challenge_hex")).CreateClientFlow(ClientContext(null))!;
        byte[] withTrailingBytes = [.. valid, 0xff, 0x00];
        AuthResult reply = await trailing.ReceiveAsync(withTrailingBytes, CancellationToken.None);
        Assert.Equal(AuthOutcome.Continue, reply.Outcome);
        AssertHex(vector, "client_auth_data_hex", reply.Data);
    }

    [Fact]
    public async Task SecondServerBlobMakesTheClientThrow()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        IAuthClientFlow client = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "client_challenge_hex")).CreateClientFlow(ClientContext(null))!;
        Assert.Equal(AuthOutcome.Continue, (await client.ReceiveAsync(Hex(vector, "server_auth_data_hex"), CancellationToken.None)).Outcome);
        await Assert.ThrowsAnyAsync<ProtocolException>(async () => await client.ReceiveAsync(Hex(vector, "server_auth_data_hex"), CancellationToken.None));
    }

    [Fact]
    public async Task MalformedClientAuthIsRejectedByTheServer()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        byte[] valid = Hex(vector, "client_initial_auth_data_hex");
        var inputs = new List<byte[]>();
        for (int length = 0; length < valid.Length; length++)
        {
            // The challenge is the last item, so any cut leaves it (or the version) incomplete.
            inputs.Add(valid[..length]);
        }

        inputs.AddRange(
            [.. new[] { "0270", "1b", "ff", "f6", "6131" + "50000102030405060708090a0b0c0d0e0f", "0160", "01" + "7000", "1bffffffffffffffff50", "20" }
                .Select(Convert.FromHexString)]);
        var random = new Random(9);
        for (int i = 0; i < 300; i++)
        {
            byte[] blob = new byte[random.Next(0, 40)];
            random.NextBytes(blob);
            if (blob.Length > 0 && blob[0] == 0x01)
            {
                blob[0] = 0x02;
            }

            inputs.Add(blob);
        }

        foreach (byte[] input in inputs)
        {
            IAuthServerFlow server = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "server_challenge_hex")).CreateServerFlow(ServerContext(null))!;
            Assert.Equal(AuthOutcome.Reject, await ReceiveWithoutSurprisesAsync(server, input));

            // The attempt is over after a Reject: even the valid AUTH data is refused now.
            Assert.Equal(AuthOutcome.Reject, await ReceiveWithoutSurprisesAsync(server, valid));
        }
    }

    [Fact]
    public async Task MalformedClientProofIsRejectedByTheServer()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        byte[] valid = Hex(vector, "client_auth_data_hex");
        var inputs = new List<byte[]>();
        for (int length = 0; length < valid.Length; length++)
        {
            inputs.Add(valid[..length]);
        }

        byte[] proof = valid[2..];
        inputs.Add([0x58, 0x1f, .. proof[..31]]); // 31 bytes
        inputs.Add([0x58, 0x21, .. proof, 0x00]); // 33 bytes
        inputs.Add([0x78, 0x20, .. proof]); // text instead of bytes
        inputs.Add([0x40]); // empty
        inputs.Add([0x01, .. valid]); // a version in front
        inputs.Add([0x5f, 0x58, 0x20, .. proof]); // indefinite byte string without its break
        var random = new Random(11);
        for (int i = 0; i < 300; i++)
        {
            byte[] blob = new byte[random.Next(0, 40)];
            random.NextBytes(blob);
            inputs.Add(blob);
        }

        foreach (byte[] input in inputs)
        {
            Assert.Equal(AuthOutcome.Reject, await FinishPlainServerAsync(vector, input));
        }

        // An indefinite-length byte string holding the right 32 bytes is still the right proof.
        Assert.Equal(AuthOutcome.Ok, await FinishPlainServerAsync(vector, [0x5f, 0x50, .. proof[..16], 0x50, .. proof[16..], 0xff]));
    }

    [Fact]
    public async Task ThirdAuthDataToTheServerIsRejected()
    {
        JsonElement vector = Vectors.Get("auth/shared-secret/plain");
        IAuthServerFlow server = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "server_challenge_hex")).CreateServerFlow(ServerContext(null))!;
        Assert.Equal(AuthOutcome.Continue, (await server.ReceiveAsync(Hex(vector, "client_initial_auth_data_hex"), CancellationToken.None)).Outcome);
        Assert.Equal(AuthOutcome.Ok, (await server.ReceiveAsync(Hex(vector, "client_auth_data_hex"), CancellationToken.None)).Outcome);

        // A replay of the correct proof (or anything else) after the exchange ended is refused.
        Assert.Equal(AuthOutcome.Reject, (await server.ReceiveAsync(Hex(vector, "client_auth_data_hex"), CancellationToken.None)).Outcome);
        Assert.Equal(AuthOutcome.Reject, (await server.ReceiveAsync(Hex(vector, "client_initial_auth_data_hex"), CancellationToken.None)).Outcome);

        // After a failed proof, a second try with the right proof is refused as well: one guess per challenge.
        IAuthServerFlow guessing = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "server_challenge_hex")).CreateServerFlow(ServerContext(null))!;
        await guessing.ReceiveAsync(Hex(vector, "client_initial_auth_data_hex"), CancellationToken.None);
        byte[] wrongProof = [0x58, 0x20, .. new byte[32]];
        Assert.Equal(AuthOutcome.Reject, (await guessing.ReceiveAsync(wrongProof, CancellationToken.None)).Outcome);
        Assert.Equal(AuthOutcome.Reject, (await guessing.ReceiveAsync(Hex(vector, "client_auth_data_hex"), CancellationToken.None)).Outcome);
    }

    private static async Task<AuthOutcome> RunAsync(SharedSecretAuth clientProvider, SharedSecretAuth serverProvider, AuthContext clientContext, AuthContext serverContext)
    {
        IAuthClientFlow client = clientProvider.CreateClientFlow(clientContext)!;
        IAuthServerFlow server = serverProvider.CreateServerFlow(serverContext)!;
        AuthResult serverReply = await server.ReceiveAsync(client.InitialMessage, CancellationToken.None);
        Assert.Equal(AuthOutcome.Continue, serverReply.Outcome);
        AuthResult clientReply = await client.ReceiveAsync(serverReply.Data, CancellationToken.None);
        if (clientReply.Outcome != AuthOutcome.Continue)
        {
            return clientReply.Outcome;
        }

        return (await server.ReceiveAsync(clientReply.Data, CancellationToken.None)).Outcome;
    }

    private static async Task<AuthOutcome> FinishPlainServerAsync(JsonElement vector, byte[] clientProof)
    {
        IAuthServerFlow server = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "server_challenge_hex")).CreateServerFlow(ServerContext(null))!;
        Assert.Equal(AuthOutcome.Continue, (await server.ReceiveAsync(Hex(vector, "client_initial_auth_data_hex"), CancellationToken.None)).Outcome);
        return await ReceiveWithoutSurprisesAsync(server, clientProof);
    }

    // The server flow decides; it never throws at the client's data (a throw would tear down the connection instead
    // of letting the client try its next provider).
    private static async Task<AuthOutcome> ReceiveWithoutSurprisesAsync(IAuthServerFlow server, byte[] data)
    {
        try
        {
            return (await server.ReceiveAsync(data, CancellationToken.None)).Outcome;
        }
        catch (Exception ex)
        {
            Assert.Fail($"Server flow threw on {Convert.ToHexStringLower(data)}: {ex}");
            throw;
        }
    }

    private static async Task AssertClientThrowsAsync(JsonElement vector, byte[] blob, string what)
    {
        IAuthClientFlow client = PinnedProvider(Hex(vector, "secret_hex"), Hex(vector, "client_challenge_hex")).CreateClientFlow(ClientContext(null))!;
        Exception? thrown = null;
        try
        {
            AuthResult result = await client.ReceiveAsync(blob, CancellationToken.None);
            Assert.Fail($"{what} ({Convert.ToHexStringLower(blob)}): expected ProtocolException, got {result.Outcome}");
        }
        catch (ProtocolException ex)
        {
            thrown = ex;
        }

        Assert.NotNull(thrown);
    }

    private static byte[] Concat(byte[] first, byte[] second) => [.. first, .. second];

    private static SharedSecretAuth PinnedProvider(byte[] secret, params byte[][] challenges) =>
        new(secret, null, new PinnedChallenges(challenges).Next);

    private static AuthContext ClientContext(PeerChannelSecurity? security) => new(PeerRole.Client, ClientId, ServerId, security);

    private static AuthContext ServerContext(PeerChannelSecurity? security) => new(PeerRole.Server, ServerId, ClientId, security);

    private static byte[] Hex(JsonElement vector, string property) => Vectors.Hex(vector.GetProperty(property).GetString()!);

    private static void AssertHex(JsonElement vector, string property, ReadOnlyMemory<byte> actual) =>
        Assert.Equal(vector.GetProperty(property).GetString(), Convert.ToHexStringLower(actual.Span));

    // Hands out fixed challenges in order and counts the calls; running out means a flow drew more than expected.
    private sealed class PinnedChallenges(params byte[][] challenges)
    {
        private int _calls;

        public int Calls => _calls;

        public byte[] Next()
        {
            Assert.True(_calls < challenges.Length, $"Challenge {_calls + 1} requested, only {challenges.Length} pinned.");
            return (byte[])challenges[_calls++].Clone();
        }
    }
}
