using System.Buffers;
using System.Text.Json;
using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Ataraxia.Tests.Cbor;

namespace Ataraxia.Tests.Interop;

/// <summary>
/// The recorded exchange between two real JavaScript networks (vector <c>session/plain-stream</c>): every frame
/// decodes and re-encodes byte for byte, and our sessions negotiate with the exact bytes the JavaScript nodes sent.
/// </summary>
public sealed class SessionTranscriptTests
{
    private static readonly JsonElement Transcript = Ataraxia.Testing.Vectors.Get("session/plain-stream");
    private static readonly NodeId ServerId = new(Convert.FromHexString(Transcript.GetProperty("server_id").GetString()!));
    // Defaults otherwise; the scripted peer never hangs up, so closing should not wait long for it.
    private static readonly PeerSessionOptions Options = new() { CloseTimeout = TimeSpan.FromMilliseconds(200) };
    private static readonly NodeId ClientId = new(Convert.FromHexString(Transcript.GetProperty("client_id").GetString()!));

    public static TheoryData<int> FrameIndexes()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Transcript.GetProperty("frames").GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FrameIndexes))]
    public void Every_recorded_frame_round_trips_byte_for_byte(int index)
    {
        JsonElement frame = Transcript.GetProperty("frames")[index];
        byte[] bytes = Convert.FromHexString(frame.GetProperty("frame_hex").GetString()!);

        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(PeerMessageCodec.TryReadFrame(ref buffer, 16 * 1024 * 1024, out ReadOnlySequence<byte> message));
        Assert.True(buffer.IsEmpty);
        PeerMessage decoded = PeerMessageCodec.Decode(message);
        Assert.Equal(frame.GetProperty("type").GetString(), decoded.Type.ToString());

        var output = new ArrayBufferWriter<byte>();
        PeerMessageCodec.WriteFrame(decoded, output);
        Assert.Equal(Convert.ToHexStringLower(bytes), Convert.ToHexStringLower(output.WrittenSpan));

        if (decoded is PeerData data)
        {
            Assert.Equal(frame.GetProperty("data_type").GetString(), data.DataType);
            Assert.Equal(frame.GetProperty("data_payload_hex").GetString(), Convert.ToHexStringLower(data.Data.Span));
            CborValue payload = CborValue.Decode(data.Data.Span);
            CborAssert.Same(JsValueConverter.ToCbor(frame.GetProperty("data_payload")), payload);
            Assert.Equal(Convert.ToHexStringLower(data.Data.Span), Convert.ToHexStringLower(payload.Encode()));
        }
    }

    [Fact]
    public async Task Our_server_sends_the_negotiation_bytes_the_javascript_server_sent()
    {
        List<string> expected = FramesUntil("server->client", "Ok", occurrence: 2);
        (DuplexPipe serverEnd, DuplexPipe rawEnd) = DuplexPipe.CreatePair();
        await using var server = new PeerSession(serverEnd, PeerRole.Server, ServerId, Options);
        var peer = new ScriptedPeer(rawEnd);
        server.Start();

        // Replay the JavaScript client's negotiation frames and record what our server answers.
        List<string> clientFrames = FramesUntil("client->server", "Begin", occurrence: 1);
        var answers = new List<string>();
        answers.Add(Encode(await peer.ReceiveAsync()));
        await peer.SendRawAsync(Convert.FromHexString(clientFrames[0]));
        answers.Add(Encode(await peer.ReceiveAsync()));
        await peer.SendRawAsync(Convert.FromHexString(clientFrames[1]));
        answers.Add(Encode(await peer.ReceiveAsync()));
        await peer.SendRawAsync(Convert.FromHexString(clientFrames[2]));

        Assert.Equal(ClientId, await server.WaitForActiveAsync().DefaultTimeout());
        Assert.Equal(expected, answers);
    }

    [Fact]
    public async Task Our_client_sends_the_negotiation_bytes_the_javascript_client_sent()
    {
        List<string> expected = FramesUntil("client->server", "Begin", occurrence: 1);
        List<string> serverFrames = FramesUntil("server->client", "Ok", occurrence: 2);
        (DuplexPipe clientEnd, DuplexPipe rawEnd) = DuplexPipe.CreatePair();
        await using var client = new PeerSession(clientEnd, PeerRole.Client, ClientId, Options);
        var peer = new ScriptedPeer(rawEnd);
        client.Start();

        var answers = new List<string>();
        await peer.SendRawAsync(Convert.FromHexString(serverFrames[0]));
        answers.Add(Encode(await peer.ReceiveAsync()));
        await peer.SendRawAsync(Convert.FromHexString(serverFrames[1]));
        answers.Add(Encode(await peer.ReceiveAsync()));
        await peer.SendRawAsync(Convert.FromHexString(serverFrames[2]));
        answers.Add(Encode(await peer.ReceiveAsync()));

        Assert.Equal(ServerId, await client.WaitForActiveAsync().DefaultTimeout());
        Assert.Equal(expected, answers);
    }

    [Fact]
    public async Task Our_server_accepts_the_whole_javascript_client_stream()
    {
        (DuplexPipe serverEnd, DuplexPipe rawEnd) = DuplexPipe.CreatePair();
        await using var server = new PeerSession(serverEnd, PeerRole.Server, ServerId, Options);
        var peer = new ScriptedPeer(rawEnd);
        server.Start();

        var frames = Transcript.GetProperty("frames").EnumerateArray().Where(f => f.GetProperty("dir").GetString() == "client->server").ToList();
        foreach (JsonElement frame in frames)
        {
            await peer.SendRawAsync(Convert.FromHexString(frame.GetProperty("frame_hex").GetString()!));
        }

        // Everything after BEGIN except BYE reaches Incoming in order; the final BYE ends the session.
        var routed = frames.SkipWhile(f => f.GetProperty("type").GetString() != "Begin").Skip(1)
            .Select(f => f.GetProperty("type").GetString()!)
            .Where(t => t is not ("Ping" or "Pong" or "Bye"))
            .ToList();
        var received = new List<string>();
        await foreach (PeerMessage message in server.Incoming.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
        {
            received.Add(message.Type.ToString());
        }

        Assert.Equal(routed, received);
        Assert.Equal(PeerDisconnectReason.RemoteBye, await server.Completion.DefaultTimeout());
    }

    private static string Encode(PeerMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        PeerMessageCodec.WriteFrame(message, output);
        return Convert.ToHexStringLower(output.WrittenSpan);
    }

    private static List<string> FramesUntil(string direction, string lastType, int occurrence)
    {
        var result = new List<string>();
        int seen = 0;
        foreach (JsonElement frame in Transcript.GetProperty("frames").EnumerateArray())
        {
            if (frame.GetProperty("dir").GetString() != direction)
            {
                continue;
            }

            result.Add(frame.GetProperty("frame_hex").GetString()!);
            if (frame.GetProperty("type").GetString() == lastType && ++seen == occurrence)
            {
                return result;
            }
        }

        throw new InvalidOperationException($"The transcript has no {lastType} #{occurrence} from {direction}.");
    }
}
