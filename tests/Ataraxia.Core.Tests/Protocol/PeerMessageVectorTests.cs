using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Protocol;

/// <summary>
/// The <c>peer/*</c>, <c>decode/*</c>, <c>frame/*</c> and <c>frame-decode/*</c> vectors (WIRE.md §3, §4.1): what the
/// JavaScript encoder writes, what its decoder makes of odd input, and how its stream reader cuts frames.
/// </summary>
public sealed class PeerMessageVectorTests
{
    private const long MaxFrameLength = 16 * 1024 * 1024;

    // How we treat each decode/* vector, and why where we differ from JS.
    private static readonly Dictionary<string, DecoderExpectation> DecoderExpectations = new()
    {
        // Well-formed per our rules: like JS we ignore bytes after the last field (WIRE.md §2.2).
        ["decode/trailing-bytes-ignored"] = DecoderExpectation.SameAsJs,

        // Any argument width is valid CBOR; JS emits minimal heads but accepts wider ones, and so do we.
        ["decode/non-minimal-tag"] = DecoderExpectation.SameAsJs,
        ["decode/non-minimal-ack-id"] = DecoderExpectation.SameAsJs,

        // REJECT has no fields, so the reason is just trailing bytes.
        ["decode/reject-with-reason"] = DecoderExpectation.SameAsJs,

        // JS returns null, which on a stream transport ends its decoding stream and leaves the connection open but
        // deaf until the ping timeout (§3.3). We raise UnknownMessageTypeException so the session closes at once.
        ["decode/unknown-tag-5"] = DecoderExpectation.UnknownTag,
        ["decode/unknown-tag-21"] = DecoderExpectation.UnknownTag,

        // JS does no type checks and hands 1.5 to the ack logic, where it matches no message id. An integer field
        // that is not an unsigned integer can only come from a broken or hostile peer, so we refuse the message.
        ["decode/float-ack-id"] = DecoderExpectation.ProtocolError,

        // JS compares the array header with an array, gets an empty capability set and carries on; the count of a
        // list is an unsigned integer on the wire (§3.1), so anything else is malformed for us.
        ["decode/hello-count-as-cbor-array"] = DecoderExpectation.ProtocolError,

        // JS throws too ("read out of bounds"), but uncaught; we throw ProtocolException, which closes the session.
        ["decode/truncated-hello"] = DecoderExpectation.ProtocolError,
    };

    private enum DecoderExpectation
    {
        SameAsJs,
        UnknownTag,
        ProtocolError,
    }

    public static TheoryData<string> PeerMessageVectors => Vectors.Names("peer-message");

    public static TheoryData<string> DecoderBehaviourVectors => Vectors.Names("peer-decoder-behaviour");

    public static TheoryData<string> StreamFrameVectors => Vectors.Names("stream-frame");

    public static TheoryData<string> StreamFrameDecodeVectors => Vectors.Names("stream-frame-decode");

    [Fact]
    public void CategoriesHaveAllVectors()
    {
        Assert.Equal(29, Vectors.InCategory("peer-message").Count());
        Assert.Equal(9, Vectors.InCategory("peer-decoder-behaviour").Count());
        Assert.Equal(7, Vectors.InCategory("stream-frame").Count());
        Assert.Equal(5, Vectors.InCategory("stream-frame-decode").Count());

        // Every decoder vector has a documented expectation, and every expectation a vector.
        Assert.Equal(
            DecoderExpectations.Keys.Order(StringComparer.Ordinal),
            Vectors.InCategory("peer-decoder-behaviour").Select(v => v.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PeerMessageVectorsCoverEveryMessageType()
    {
        HashSet<PeerMessageType> covered = [.. Vectors.InCategory("peer-message").Select(v => Enum.Parse<PeerMessageType>(v.GetProperty("type").GetString()!))];
        Assert.Equal(Enum.GetValues<PeerMessageType>(), covered.Order());
    }

    [Theory]
    [MemberData(nameof(PeerMessageVectors))]
    public void PeerMessageVector(string name)
    {
        JsonElement vector = Vectors.Get(name);
        PeerMessage message = PeerMessageJson.Build(vector.GetProperty("type").GetString()!, vector.GetProperty("fields"));
        byte[] expected = Vectors.Hex(vector.GetProperty("hex").GetString()!);

        Assert.Equal(vector.GetProperty("tag").GetInt32(), (int)message.Type);
        Assert.Equal(expected.Length, PeerMessageCodec.GetEncodedLength(message));
        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(PeerMessageCodec.Encode(message)));

        // A message-based transport (WebSocket) sends the message bytes as they are.
        Assert.Equal(vector.GetProperty("websocket_binary_frame_payload_hex").GetString(), Convert.ToHexStringLower(PeerMessageCodec.Encode(message)));

        var written = new ArrayBufferWriter<byte>();
        PeerMessageCodec.Write(message, written);
        Assert.Equal(expected, written.WrittenSpan.ToArray());

        var frame = new ArrayBufferWriter<byte>();
        int frameLength = PeerMessageCodec.WriteFrame(message, frame);
        Assert.Equal(vector.GetProperty("stream_frame_hex").GetString(), Convert.ToHexStringLower(frame.WrittenSpan));
        Assert.Equal(frame.WrittenCount, frameLength);

        // Decoding the JS bytes gives back what JS decoded, which is also what we built.
        PeerMessage decoded = PeerMessageCodec.Decode(expected);
        PeerMessageJson.AssertEqual(PeerMessageJson.Build(vector.GetProperty("decoded")), decoded);
        PeerMessageJson.AssertEqual(message, decoded);

        // The stream frame reads back to the same message.
        var buffer = new ReadOnlySequence<byte>(frame.WrittenMemory);
        Assert.True(PeerMessageCodec.TryReadFrame(ref buffer, MaxFrameLength, out ReadOnlySequence<byte> body));
        Assert.True(buffer.IsEmpty);
        Assert.Equal(expected, body.ToArray());
        PeerMessageJson.AssertEqual(message, PeerMessageCodec.Decode(body));
    }

    [Theory]
    [MemberData(nameof(DecoderBehaviourVectors))]
    public void DecoderBehaviourVector(string name)
    {
        JsonElement vector = Vectors.Get(name);
        byte[] input = Vectors.Hex(vector.GetProperty("hex").GetString()!);
        JsonElement js = vector.GetProperty("decoded");

        switch (DecoderExpectations[name])
        {
            case DecoderExpectation.SameAsJs:
                PeerMessageJson.AssertEqual(PeerMessageJson.Build(js), PeerMessageCodec.Decode(input));
                PeerMessageJson.AssertEqual(PeerMessageJson.Build(js), PeerMessageCodec.Decode(TestSequence.Split(input, 1)));
                break;
            case DecoderExpectation.UnknownTag:
                Assert.Equal(JsonValueKind.Null, js.GetProperty("result").ValueKind);
                UnknownMessageTypeException unknown = Assert.Throws<UnknownMessageTypeException>(() => PeerMessageCodec.Decode(input));
                Assert.Equal((ulong)input[0], unknown.Tag);
                break;
            case DecoderExpectation.ProtocolError:
                // Whatever JS made of it (a value of the wrong type, or an error), we refuse it.
                Assert.True(js.TryGetProperty("error", out _) || js.TryGetProperty("type", out _));
                Assert.ThrowsAny<ProtocolException>(() => PeerMessageCodec.Decode(input));
                break;
        }
    }

    [Theory]
    [MemberData(nameof(StreamFrameVectors))]
    public void StreamFrameVector(string name)
    {
        JsonElement vector = Vectors.Get(name);
        int messageLength = vector.GetProperty("message_length").GetInt32();

        // The message is an AUTH_DATA whose byte string fills the rest: tag (1) + byte string head + content.
        int contentLength = Enumerable.Range(0, messageLength).Single(n => 1 + Ataraxia.Cbor.CborWriter.GetByteStringLength(n) == messageLength);
        Assert.Contains($"AUTH_DATA carrying {contentLength} bytes of 0xab", vector.GetProperty("description").GetString(), StringComparison.Ordinal);
        byte[] content = new byte[contentLength];
        content.AsSpan().Fill(0xab);
        var message = new PeerAuthData(content);
        Assert.Equal(messageLength, PeerMessageCodec.GetEncodedLength(message));

        var output = new ArrayBufferWriter<byte>();
        int written = PeerMessageCodec.WriteFrame(message, output);
        byte[] frame = output.WrittenSpan.ToArray();
        string header = vector.GetProperty("header_hex").GetString()!;

        Assert.Equal(vector.GetProperty("frame_length").GetInt32(), frame.Length);
        Assert.Equal(frame.Length, written);
        Assert.Equal(header, Convert.ToHexStringLower(frame.AsSpan(0, header.Length / 2)));
        Assert.Equal(vector.GetProperty("frame_sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(frame)));
        if (vector.TryGetProperty("hex", out JsonElement hex))
        {
            Assert.Equal(hex.GetString(), Convert.ToHexStringLower(frame));
        }

        if (vector.TryGetProperty("frame_prefix_hex", out JsonElement prefix))
        {
            Assert.StartsWith(prefix.GetString()!, Convert.ToHexStringLower(frame), StringComparison.Ordinal);
        }

        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.True(PeerMessageCodec.TryReadFrame(ref buffer, MaxFrameLength, out ReadOnlySequence<byte> body));
        Assert.True(buffer.IsEmpty);
        Assert.Equal(messageLength, body.Length);
        PeerAuthData decoded = Assert.IsType<PeerAuthData>(PeerMessageCodec.Decode(body));
        Assert.Equal(content, decoded.Data.ToArray());

        // One byte short of the whole frame is not a frame yet.
        var partial = new ReadOnlySequence<byte>(frame, 0, frame.Length - 1);
        Assert.False(PeerMessageCodec.TryReadFrame(ref partial, MaxFrameLength, out _));
        Assert.Equal(frame.Length - 1, partial.Length);
    }

    [Theory]
    [MemberData(nameof(StreamFrameDecodeVectors))]
    public void StreamFrameDecodeVector(string name)
    {
        JsonElement vector = Vectors.Get(name);
        JsonElement result = vector.GetProperty("result");
        byte[][] chunks = [.. vector.GetProperty("chunks_hex").EnumerateArray().Select(c => Vectors.Hex(c.GetString()!))];
        PeerMessage[] jsMessages = [.. result.GetProperty("messages").EnumerateArray().Select(PeerMessageJson.Build)];
        bool jsFailed = result.GetProperty("error_event").ValueKind != JsonValueKind.Null
            || result.GetProperty("thrown_synchronously").ValueKind != JsonValueKind.Null;

        var received = new List<PeerMessage>();
        ProtocolException? error = null;
        try
        {
            ReadChunks(chunks, received);
        }
        catch (ProtocolException ex)
        {
            error = ex;
        }

        if (!jsFailed)
        {
            Assert.Null(error);
            Assert.Equal(jsMessages.Length, received.Count);
            for (int i = 0; i < jsMessages.Length; i++)
            {
                PeerMessageJson.AssertEqual(jsMessages[i], received[i]);
            }

            return;
        }

        // Where the JS reader throws (zero-length frame) or silently stops reading (unknown tag: it pushes
        // end-of-stream and every later frame is dropped), we raise ProtocolException: the session closes the
        // connection instead of staying connected but deaf until the ping timeout. Nothing before the bad frame
        // was delivered by JS in these vectors, and nothing is delivered by us.
        Assert.NotNull(error);
        Assert.Equal(jsMessages.Length, received.Count);
        if (name == "frame-decode/unknown-tag-ends-stream")
        {
            Assert.Equal(5UL, Assert.IsType<UnknownMessageTypeException>(error).Tag);
        }
    }

    // Feeds the chunks one at a time into a growing multi-segment buffer, the way a read loop over a pipe does,
    // and decodes every complete frame as soon as it is there.
    private static void ReadChunks(byte[][] chunks, List<PeerMessage> received)
    {
        long consumed = 0;
        for (int count = 1; count <= chunks.Length; count++)
        {
            ReadOnlySequence<byte> buffer = TestSequence.Create([.. chunks.Take(count).Select(c => (ReadOnlyMemory<byte>)c)]).Slice(consumed);
            long before = buffer.Length;
            while (PeerMessageCodec.TryReadFrame(ref buffer, MaxFrameLength, out ReadOnlySequence<byte> body))
            {
                received.Add(PeerMessageCodec.Decode(body));
            }

            consumed += before - buffer.Length;
        }
    }
}
