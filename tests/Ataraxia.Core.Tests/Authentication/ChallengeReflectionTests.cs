using System.Buffers;
using Ataraxia.Authentication;
using Ataraxia.Cbor;
using Ataraxia.Protocol;

namespace Ataraxia.Tests.Authentication;

/// <summary>
/// On a channel without public security, an attacker who cannot compute proofs could otherwise reflect our own
/// challenge back to us on a second connection and use our answer as its proof.
/// </summary>
public sealed class ChallengeReflectionTests
{
    // One node under attack, seen from its accepting and its connecting side.
    private static readonly NodeId Node = NodeId.NewId();
    private static readonly AuthContext ServerContext = new(PeerRole.Server, Node, NodeId.NewId(), null);
    private static readonly AuthContext ClientContext = new(PeerRole.Client, Node, NodeId.NewId(), null);

    [Fact]
    public async Task Server_refuses_to_answer_its_own_outstanding_challenge()
    {
        var provider = new SharedSecretAuth("s3cret");

        // Connection 1: the attacker starts authenticating and learns our server challenge Sc.
        IAuthServerFlow first = provider.CreateServerFlow(ServerContext)!;
        AuthResult reply = await first.ReceiveAsync(Initial(new byte[16]), default);
        Assert.Equal(AuthOutcome.Continue, reply.Outcome);
        byte[] serverChallenge = ReadServerChallenge(reply.Data);

        // Connection 2: the attacker sends Sc as its own client challenge, hoping we answer HMAC(secret, Sc).
        IAuthServerFlow second = provider.CreateServerFlow(ServerContext)!;
        Assert.Equal(AuthOutcome.Reject, (await second.ReceiveAsync(Initial(serverChallenge), default)).Outcome);
    }

    [Fact]
    public async Task Server_refuses_a_challenge_that_our_own_client_issued()
    {
        var provider = new SharedSecretAuth("s3cret");
        IAuthClientFlow client = provider.CreateClientFlow(ClientContext)!;

        // An attacker posing as a server forwards our client's challenge to our server to obtain the proof.
        IAuthServerFlow server = provider.CreateServerFlow(ServerContext)!;
        Assert.Equal(AuthOutcome.Reject, (await server.ReceiveAsync(client.InitialMessage, default)).Outcome);
    }

    [Fact]
    public async Task Two_nodes_sharing_one_provider_instance_still_authenticate_each_other()
    {
        var provider = new SharedSecretAuth("s3cret");
        IAuthClientFlow client = provider.CreateClientFlow(new AuthContext(PeerRole.Client, NodeId.NewId(), Node, null))!;
        IAuthServerFlow server = provider.CreateServerFlow(new AuthContext(PeerRole.Server, NodeId.NewId(), Node, null))!;

        AuthResult serverData = await server.ReceiveAsync(client.InitialMessage, default);
        AuthResult clientProof = await client.ReceiveAsync(serverData.Data, default);
        Assert.Equal(AuthOutcome.Ok, (await server.ReceiveAsync(clientProof.Data, default)).Outcome);
    }

    [Fact]
    public async Task A_finished_challenge_no_longer_counts_as_outstanding()
    {
        var provider = new SharedSecretAuth("s3cret");
        IAuthClientFlow client = provider.CreateClientFlow(ClientContext)!;
        IAuthServerFlow server = provider.CreateServerFlow(ServerContext)!;
        var otherSide = new SharedSecretAuth("s3cret");
        IAuthServerFlow remote = otherSide.CreateServerFlow(ServerContext)!;
        AuthResult serverData = await remote.ReceiveAsync(client.InitialMessage, default);
        AuthResult clientProof = await client.ReceiveAsync(serverData.Data, default);
        Assert.Equal(AuthOutcome.Continue, clientProof.Outcome);

        // The client flow is done with its challenge, so an honest peer that happens to reuse it is served.
        Assert.Equal(AuthOutcome.Continue, (await server.ReceiveAsync(client.InitialMessage, default)).Outcome);
    }

    private static byte[] Initial(byte[] challenge)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CborWriter(buffer);
        writer.WriteUInt64(1);
        writer.WriteByteString(challenge);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] ReadServerChallenge(ReadOnlyMemory<byte> data)
    {
        var reader = new CborReader(data.Span);
        reader.ReadUInt64();
        return reader.ReadByteString().ToArray();
    }
}
