using System.Buffers;
using Ataraxia.Protocol;

namespace Ataraxia.Tests.Protocol;

/// <summary>
/// <see cref="PeerMessageCodec.TryReadFrame"/> on the stream framing of WIRE.md §4.1: frames split anywhere across
/// segments, every header width, reserved headers, the size limit and empty input.
/// </summary>
public sealed class FramingTests
{
    private const long MaxFrameLength = 1024 * 1024;

    private static readonly PeerMessage[] StreamMessages =
    [
        PeerSignal.Ping,
        new PeerIdentify(PeerMessageType.Hello, new NodeId(Convert.FromHexString("112233445566478899aabbccddeeff00"))),
        new PeerAuthData(Filled(22, 0xab)), // 24-byte message: two-byte header 18 18
        new PeerDataResult(PeerMessageType.DataAck, 65536),
        new PeerAuthData(Filled(253, 0xcd)), // 256-byte message: three-byte header 19 01 00
        PeerSignal.Bye,
    ];

    private static readonly byte[][] StreamEncodings = [.. StreamMessages.Select(PeerMessageCodec.Encode)];

    public static TheoryData<string, long> HeaderLengths => new()
    {
        { "00", 0 }, // refused separately: no message is empty
        { "01", 1 },
        { "17", 23 },
        { "1818", 24 },
        { "18ff", 255 },
        { "190100", 256 },
        { "19ffff", 65535 },
        { "1a00010000", 65536 },
        { "1affffffff", uint.MaxValue },

        // Not minimal, but JS reads them the same way.
        { "1805", 5 },
        { "190005", 5 },
        { "1a00000005", 5 },

        // Only the low five bits count: the major type bits are ignored like JS does.
        { "41", 1 },
        { "e1", 1 },
        { "5818", 24 },
        { "b90100", 256 },
        { "fa00010000", 65536 },
    };

    public static TheoryData<byte> ReservedHeaderBytes
    {
        get
        {
            var data = new TheoryData<byte>();
            for (int major = 0; major < 8; major++)
            {
                for (int info = 27; info <= 31; info++)
                {
                    data.Add((byte)((major << 5) | info));
                }
            }

            return data;
        }
    }

    [Fact]
    public void EmptyBufferIsNotAFrame()
    {
        var buffer = ReadOnlySequence<byte>.Empty;
        Assert.False(PeerMessageCodec.TryReadFrame(ref buffer, MaxFrameLength, out ReadOnlySequence<byte> message));
        Assert.True(buffer.IsEmpty);
        Assert.True(message.IsEmpty);

        var defaultBuffer = default(ReadOnlySequence<byte>);
        Assert.False(PeerMessageCodec.TryReadFrame(ref defaultBuffer, MaxFrameLength, out _));
    }

    [Fact]
    public void EveryTwoSplitPointsYieldTheSameMessages()
    {
        byte[] stream = Frames(StreamMessages);

        // i = 0 would make the first segment empty; that case is EmptyFirstSegmentIsSkipped.
        for (int i = 1; i <= stream.Length; i++)
        {
            for (int j = i; j <= stream.Length; j++)
            {
                ReadOnlySequence<byte> buffer = TestSequence.Split(stream, i, j);
                List<PeerMessage> messages = ReadAll(ref buffer, $"splits {i}, {j}");
                Assert.True(buffer.IsEmpty, $"splits {i}, {j}: {buffer.Length} bytes left over");
                AssertMessages(messages, $"splits {i}, {j}");
            }
        }
    }

    [Fact]
    public void OneByteSegmentsYieldTheSameMessages()
    {
        byte[] stream = Frames(StreamMessages);
        ReadOnlySequence<byte> buffer = TestSequence.Split(stream, [.. Enumerable.Range(1, stream.Length - 1)]);
        Assert.False(buffer.IsSingleSegment);
        List<PeerMessage> messages = ReadAll(ref buffer, "one-byte segments");
        Assert.True(buffer.IsEmpty);
        AssertMessages(messages, "one-byte segments");
    }

    [Fact]
    public void EverySplitPointOfAnArrivingStreamYieldsTheSameMessages()
    {
        byte[] stream = Frames(StreamMessages);

        // The bytes arrive in two reads split at `split`; the reader consumes what it can after each read and keeps
        // the rest, the way a read loop advances its pipe.
        for (int split = 1; split < stream.Length; split++)
        {
            var messages = new List<PeerMessage>();
            ReadOnlySequence<byte> first = TestSequence.Create(stream.AsMemory(0, split));
            messages.AddRange(ReadAll(ref first, $"split {split}, first read"));
            long consumed = split - first.Length;

            ReadOnlySequence<byte> second = TestSequence.Split(stream, split).Slice(consumed);
            messages.AddRange(ReadAll(ref second, $"split {split}, second read"));
            Assert.True(second.IsEmpty);
            AssertMessages(messages, $"split {split}");
        }
    }

    [Fact]
    public void ByteByByteArrivalYieldsEachMessageWhenItsLastByteArrives()
    {
        byte[] stream = Frames(StreamMessages);
        var frameEnds = new HashSet<int>();
        int end = 0;
        foreach (PeerMessage message in StreamMessages)
        {
            end += FrameLength(message);
            frameEnds.Add(end);
        }

        var messages = new List<PeerMessage>();
        long consumed = 0;
        for (int available = 1; available <= stream.Length; available++)
        {
            ReadOnlySequence<byte> buffer = TestSequence.Split(stream.AsSpan(0, available).ToArray(), [.. Enumerable.Range(1, available - 1)]).Slice(consumed);
            int before = messages.Count;
            messages.AddRange(ReadAll(ref buffer, $"{available} bytes"));
            consumed = available - buffer.Length;
            Assert.Equal(frameEnds.Contains(available) ? before + 1 : before, messages.Count);
        }

        AssertMessages(messages, "byte by byte");
    }

    [Theory]
    [MemberData(nameof(HeaderLengths))]
    public void HeaderAnnouncesLength(string headerHex, long length)
    {
        byte[] header = Convert.FromHexString(headerHex);
        if (length == 0)
        {
            var empty = new ReadOnlySequence<byte>(header);
            Assert.Throws<ProtocolException>(() => PeerMessageCodec.TryReadFrame(ref empty, MaxFrameLength, out _));
            return;
        }

        // Every proper prefix of the header is not a frame yet, and the buffer is left alone.
        for (int i = 1; i < header.Length; i++)
        {
            var partial = new ReadOnlySequence<byte>(header, 0, i);
            Assert.False(PeerMessageCodec.TryReadFrame(ref partial, long.MaxValue, out _));
            Assert.Equal(i, partial.Length);
        }

        // A complete header with a limit one below the length fails at once, without any of the body: this is how
        // the announced length is observed for lengths too large to buffer in a test.
        var tooLarge = new ReadOnlySequence<byte>(header);
        FrameTooLargeException ex = Assert.Throws<FrameTooLargeException>(() => PeerMessageCodec.TryReadFrame(ref tooLarge, length - 1, out _));
        Assert.Equal(length, ex.Length);
        Assert.Equal(length - 1, ex.Maximum);

        if (length > 70_000)
        {
            return;
        }

        // With the whole body (split after the header and in its middle), the frame is exactly the body.
        byte[] body = Filled((int)length, 0x5a);
        byte[] frame = [.. header, .. body, 0x01, 0x00];
        for (int split = 0; split <= header.Length; split++)
        {
            ReadOnlySequence<byte> buffer = TestSequence.Split(frame, Math.Max(split, 1), header.Length + ((int)length / 2));
            Assert.True(PeerMessageCodec.TryReadFrame(ref buffer, length, out ReadOnlySequence<byte> message));
            Assert.Equal(body, message.ToArray());
            Assert.Equal(2, buffer.Length);
        }

        // One byte of the body missing: not a frame yet, nothing consumed.
        var short1 = new ReadOnlySequence<byte>(frame, 0, header.Length + (int)length - 1);
        Assert.False(PeerMessageCodec.TryReadFrame(ref short1, length, out _));
        Assert.Equal(header.Length + length - 1, short1.Length);
    }

    [Theory]
    [MemberData(nameof(ReservedHeaderBytes))]
    public void HeaderInfo27To31IsAProtocolError(byte first)
    {
        // Info 27 would need a 64-bit length (JS never sends more than 2^32 - 1) and 28-31 are reserved or
        // indefinite: JS crashes on them (§3.3); we refuse them on the first byte, before anything else arrives.
        var alone = new ReadOnlySequence<byte>([first]);
        ProtocolException ex = Assert.Throws<ProtocolException>(() => PeerMessageCodec.TryReadFrame(ref alone, MaxFrameLength, out _));
        Assert.IsNotType<FrameTooLargeException>(ex);

        var followed = new ReadOnlySequence<byte>([first, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
        Assert.Throws<ProtocolException>(() => PeerMessageCodec.TryReadFrame(ref followed, MaxFrameLength, out _));
    }

    [Theory]
    [InlineData("00")]
    [InlineData("1800")]
    [InlineData("190000")]
    [InlineData("1a00000000")]
    [InlineData("20")]
    public void ZeroLengthFrameIsAProtocolError(string headerHex)
    {
        // JS throws an uncaught "read out of bounds" on an empty frame (§3.3); every frame holds one message.
        var buffer = new ReadOnlySequence<byte>([.. Convert.FromHexString(headerHex), 0x01, 0x00]);
        Assert.Throws<ProtocolException>(() => PeerMessageCodec.TryReadFrame(ref buffer, MaxFrameLength, out _));
    }

    [Theory]
    [InlineData("1865", 101L, 100L)] // one-byte length
    [InlineData("190065", 101L, 100L)]
    [InlineData("1a00000065", 101L, 100L)]
    [InlineData("1a01000001", 16L * 1024 * 1024 + 1, 16L * 1024 * 1024)]
    [InlineData("1affffffff", 4294967295L, 16L * 1024 * 1024)]
    [InlineData("01", 1L, 0L)] // with a limit of zero even the shortest frame is too large
    public void FrameTooLargeIsThrownAsSoonAsTheHeaderIsComplete(string headerHex, long announced, long maxFrameLength)
    {
        byte[] header = Convert.FromHexString(headerHex);

        // Before the header is complete there is nothing to decide yet.
        for (int i = 1; i < header.Length; i++)
        {
            ReadOnlySequence<byte> partial = TestSequence.Split(header[..i], [.. Enumerable.Range(1, i - 1)]);
            Assert.False(PeerMessageCodec.TryReadFrame(ref partial, maxFrameLength, out _));
            Assert.Equal(i, partial.Length);
        }

        // The complete header alone is enough to refuse the frame, whether or not it is split across segments.
        for (int split = 0; split < header.Length; split++)
        {
            ReadOnlySequence<byte> buffer = split == 0 ? new ReadOnlySequence<byte>(header) : TestSequence.Split(header, split);
            FrameTooLargeException ex = Assert.Throws<FrameTooLargeException>(() => PeerMessageCodec.TryReadFrame(ref buffer, maxFrameLength, out _));
            Assert.Equal(announced, ex.Length);
            Assert.Equal(maxFrameLength, ex.Maximum);
        }
    }

    [Fact]
    public void FrameOfExactlyTheMaximumIsAccepted()
    {
        byte[] frame = Frames([new PeerAuthData(Filled(97, 0x11))]); // 100-byte message
        Assert.Equal(102, frame.Length);
        var waiting = new ReadOnlySequence<byte>(frame, 0, 2);
        Assert.False(PeerMessageCodec.TryReadFrame(ref waiting, 100, out _));

        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.True(PeerMessageCodec.TryReadFrame(ref buffer, 100, out ReadOnlySequence<byte> message));
        Assert.Equal(100, message.Length);

        var over = new ReadOnlySequence<byte>(frame);
        Assert.Throws<FrameTooLargeException>(() => PeerMessageCodec.TryReadFrame(ref over, 99, out _));
    }

    [Fact]
    public void FalseLeavesTheBufferAndAdvancesOnlyPastWholeFrames()
    {
        byte[] stream = Frames([PeerSignal.Ping, PeerSignal.Pong]);
        var buffer = new ReadOnlySequence<byte>(stream, 0, 3); // PING frame + PONG header
        Assert.True(PeerMessageCodec.TryReadFrame(ref buffer, MaxFrameLength, out ReadOnlySequence<byte> ping));
        Assert.Equal([0x00], ping.ToArray());
        Assert.Equal(1, buffer.Length);
        ReadOnlySequence<byte> before = buffer;
        Assert.False(PeerMessageCodec.TryReadFrame(ref buffer, MaxFrameLength, out ReadOnlySequence<byte> none));
        Assert.Equal(before, buffer);
        Assert.True(none.IsEmpty);
    }

    [Fact]
    public void EmptyFirstSegmentIsSkipped()
    {
        // A valid sequence may start with an empty segment (a zero-length chunk, or a position at the very end of a
        // segment); the first header byte then lives in a later segment.
        byte[] stream = Frames([PeerSignal.Ping, PeerSignal.Pong]);
        ReadOnlySequence<byte> buffer = TestSequence.Create(ReadOnlyMemory<byte>.Empty, stream);
        Assert.Equal(0, buffer.FirstSpan.Length);
        List<PeerMessage> messages = ReadAll(ref buffer, "empty first segment");
        Assert.Equal([PeerMessageType.Ping, PeerMessageType.Pong], messages.Select(m => m.Type));
    }

    private static List<PeerMessage> ReadAll(ref ReadOnlySequence<byte> buffer, string context)
    {
        var messages = new List<PeerMessage>();
        try
        {
            while (PeerMessageCodec.TryReadFrame(ref buffer, MaxFrameLength, out ReadOnlySequence<byte> message))
            {
                messages.Add(PeerMessageCodec.Decode(message));
            }
        }
        catch (Exception ex)
        {
            Assert.Fail($"{context}: {ex}");
        }

        return messages;
    }

    private static void AssertMessages(List<PeerMessage> actual, string context)
    {
        Assert.True(StreamMessages.Length == actual.Count, $"{context}: expected {StreamMessages.Length} messages, got {actual.Count}");
        for (int i = 0; i < StreamMessages.Length; i++)
        {
            // Re-encoding is a cheap exact comparison (this runs tens of thousands of times); Describe is for the message.
            Assert.True(
                StreamEncodings[i].AsSpan().SequenceEqual(PeerMessageCodec.Encode(actual[i])),
                $"{context}: message {i} is {PeerMessageJson.Describe(actual[i])}, expected {PeerMessageJson.Describe(StreamMessages[i])}");
        }
    }

    private static byte[] Frames(IEnumerable<PeerMessage> messages)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (PeerMessage message in messages)
        {
            PeerMessageCodec.WriteFrame(message, output);
        }

        return output.WrittenSpan.ToArray();
    }

    private static int FrameLength(PeerMessage message)
    {
        int length = PeerMessageCodec.GetEncodedLength(message);
        return Ataraxia.Cbor.CborWriter.GetHeadLength((ulong)length) + length;
    }

    private static byte[] Filled(int length, byte value)
    {
        byte[] bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }
}
