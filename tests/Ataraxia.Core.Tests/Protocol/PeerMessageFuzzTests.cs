using System.Buffers;
using System.Text;
using Ataraxia.Protocol;

namespace Ataraxia.Tests.Protocol;

/// <summary>
/// Seeded random tests of <see cref="PeerMessageCodec"/>: arbitrary and mutated bytes raise nothing but
/// <see cref="ProtocolException"/>, random messages of every type round-trip, truncations fail, hostile list counts
/// are refused before anything is allocated for them, and over-long node ids are refused.
/// </summary>
/// <remarks>Every seed is fixed, so a failure is reproducible from the seed and the input hex in its message.</remarks>
public sealed class PeerMessageFuzzTests
{
    private const int RandomInputsPerSeed = 1000;
    private const int MessagesPerSeed = 200;
    private const int MutationsPerMessage = 4;
    private const ulong MaxSafeInteger = (1UL << 53) - 1;

    private static readonly PeerMessageType[] AllTypes = Enum.GetValues<PeerMessageType>();

    // Bytes that start interesting items for the codec: tags, long heads, reserved values, strings, floats, breaks.
    private static readonly byte[] InterestingBytes =
    [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
        0x14, 0x15, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x40, 0x50, 0x58, 0x5a, 0x5b, 0x5f, 0x60,
        0x61, 0x78, 0x7f, 0x80, 0x9f, 0xa0, 0xc0, 0xf4, 0xf9, 0xfa, 0xfb, 0xff, 0xff, 0xed, 0xc3, 0xf0,
    ];

    // Text with one-, two-, three- and four-byte UTF-8 characters (the last two as surrogate pairs).
    private static readonly string[] TextPieces =
    [
        "a", "z", "0", ":", "-", " ", "at:group:query", "é", "ß", "Ω", "ж", "中", "文", "€", "\u0000", "\u007f",
        "\U0001F600", "\U0001D11E", "ﬀ", "\uFEFF",
    ];

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 42, 1234 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomBytesOnlyThrowProtocolException(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < RandomInputsPerSeed; i++)
        {
            byte[] input = new byte[random.Next(0, 64)];
            if (i % 2 == 0)
            {
                random.NextBytes(input);
            }
            else
            {
                for (int j = 0; j < input.Length; j++)
                {
                    input[j] = random.Next(3) == 0 ? (byte)random.Next(256) : InterestingBytes[random.Next(InterestingBytes.Length)];
                }
            }

            // Half the inputs start with a valid tag so that the field decoders get exercised too.
            if (input.Length > 0 && random.Next(2) == 0)
            {
                input[0] = (byte)AllTypes[random.Next(AllTypes.Length)];
            }

            CheckArbitraryInput(input, $"seed {seed} case {i}");
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomMessagesRoundTrip(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < MessagesPerSeed; i++)
        {
            PeerMessageType type = AllTypes[i % AllTypes.Length];
            PeerMessage message = RandomMessage(random, type);
            byte[] encoded = PeerMessageCodec.Encode(message);
            string context = $"seed {seed} message {i} ({PeerMessageJson.Describe(message)}, {Convert.ToHexStringLower(encoded)})";

            Assert.True(PeerMessageCodec.GetEncodedLength(message) == encoded.Length, $"{context}: GetEncodedLength");
            Assert.True(encoded[0] == (byte)type, $"{context}: tag");

            PeerMessage decoded;
            try
            {
                decoded = PeerMessageCodec.Decode(encoded);
            }
            catch (Exception ex)
            {
                Assert.Fail($"{context}: decoding threw {ex}");
                throw;
            }

            PeerMessageJson.AssertEqual(message, decoded);
            Assert.Equal(encoded, PeerMessageCodec.Encode(decoded));

            // Through a stream frame split in three segments.
            var output = new ArrayBufferWriter<byte>();
            PeerMessageCodec.WriteFrame(message, output);
            byte[] frame = output.WrittenSpan.ToArray();
            int a = random.Next(1, frame.Length + 1);
            int b = random.Next(a, frame.Length + 1);
            ReadOnlySequence<byte> buffer = TestSequence.Split(frame, a, b);
            Assert.True(PeerMessageCodec.TryReadFrame(ref buffer, PeerMessageCodec.MaxEncodableFrameLength, out ReadOnlySequence<byte> body), context);
            Assert.True(buffer.IsEmpty, context);
            PeerMessageJson.AssertEqual(message, PeerMessageCodec.Decode(body));
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void EveryTruncationOfAValidMessageThrows(int seed)
    {
        // The decoder reads the fields in a fixed order and ignores what follows the last one, so it decodes a prefix
        // of a valid encoding exactly as far as the whole message: the same items, read from the same bytes. A prefix
        // can therefore only decode if it still holds every field, i.e. if it is the whole message. The shortest
        // messages (PING and the other field-less ones) are one byte, whose only proper prefix is empty. Hence every
        // proper prefix must throw, for every message type.
        var random = new Random(seed);
        foreach (PeerMessageType type in AllTypes)
        {
            for (int i = 0; i < 5; i++)
            {
                byte[] encoded = PeerMessageCodec.Encode(RandomMessage(random, type));
                for (int length = 0; length < encoded.Length; length++)
                {
                    byte[] prefix = encoded[..length];
                    Exception? thrown = Record.Exception(() => PeerMessageCodec.Decode(prefix));
                    if (thrown is not ProtocolException || thrown is UnknownMessageTypeException)
                    {
                        Assert.Fail($"seed {seed} {type} truncated to {length} of {encoded.Length} ({Convert.ToHexStringLower(prefix)}): got {thrown?.ToString() ?? "a message"}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedMessagesOnlyThrowProtocolException(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < MessagesPerSeed; i++)
        {
            byte[] encoded = PeerMessageCodec.Encode(RandomMessage(random, AllTypes[i % AllTypes.Length]));
            for (int m = 0; m < MutationsPerMessage; m++)
            {
                byte[] mutated = (byte[])encoded.Clone();
                int changes = random.Next(1, 4);
                for (int c = 0; c < changes; c++)
                {
                    int position = random.Next(mutated.Length);
                    mutated[position] = random.Next(2) == 0 ? (byte)random.Next(256) : InterestingBytes[random.Next(InterestingBytes.Length)];
                }

                CheckArbitraryInput(mutated, $"seed {seed} message {i} mutation {m}");
            }
        }
    }

    [Fact]
    public void RandomFramesOnlyThrowProtocolException()
    {
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            byte[] input = new byte[random.Next(0, 24)];
            random.NextBytes(input);
            var buffer = new ReadOnlySequence<byte>(input);
            try
            {
                while (PeerMessageCodec.TryReadFrame(ref buffer, 64, out ReadOnlySequence<byte> message))
                {
                    _ = PeerMessageCodec.Decode(message);
                }
            }
            catch (ProtocolException)
            {
            }
            catch (Exception ex)
            {
                Assert.Fail($"case {i} ({Convert.ToHexStringLower(input)}): {ex}");
            }
        }
    }

    [Theory]
    [InlineData("DATA", "0250000102030405060708090a0b0c0d0e0f617840" + "1b0000000100000000")]
    [InlineData("DATA, count 2^64 - 1", "0250000102030405060708090a0b0c0d0e0f617840" + "1bffffffffffffffff")]
    [InlineData("DATA, count 2^31", "0250000102030405060708090a0b0c0d0e0f617840" + "1a80000000")]
    [InlineData("HELLO", "0c50000102030405060708090a0b0c0d0e0f" + "1b0000000100000000")]
    [InlineData("NODE_SUMMARY", "1201" + "1b0000000100000000")]
    [InlineData("NODE_REQUEST", "13" + "1b0000000100000000")]
    [InlineData("NODE_DETAILS", "14" + "1b0000000100000000")]
    [InlineData("NODE_DETAILS neighbours", "1401" + "40" + "00" + "1b0000000100000000")]
    public void HugeListCountThrowsWithoutAllocatingForIt(string what, string hex)
    {
        // A count of 2^32 (or more) entries in a 30-byte message: sizing an array by it would allocate gigabytes (or
        // overflow); the count must be refused because the message cannot hold that many entries. The zero bytes
        // that pad the message to 30 bytes are valid items (unsigned 0), so only the count is wrong.
        byte[] prefix = Convert.FromHexString(hex);
        byte[] input = [.. prefix, .. new byte[30 - prefix.Length]];

        // Warm up: the first throw loads types and resources for the exception.
        Assert.ThrowsAny<ProtocolException>(() => PeerMessageCodec.Decode(input));

        long before = GC.GetAllocatedBytesForCurrentThread();
        ProtocolException ex = Assert.ThrowsAny<ProtocolException>(() => PeerMessageCodec.Decode(input));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"{what}: decoding allocated {allocated} bytes ({ex.Message})");

        // Only the count is wrong: the same message with a count of zero decodes.
        int countLength = prefix[^9] == 0x1b ? 9 : 5;
        byte[] sane = [.. prefix[..^countLength], 0x00, .. new byte[30 - prefix.Length + countLength - 1]];
        Assert.Equal(30, sane.Length);
        _ = PeerMessageCodec.Decode(sane);
    }

    [Fact]
    public void NodeIdLongerThanTheLimitIsRefusedEverywhere()
    {
        var atLimit = new NodeId(Filled(PeerMessageCodec.MaxNodeIdLength, 0x11));
        var overLimit = new NodeId(Filled(PeerMessageCodec.MaxNodeIdLength + 1, 0x22));
        var huge = new NodeId(Filled(70_000, 0x33));
        NodeId normal = NodeId.FromRandomBytes(Filled(16, 0x44));

        Func<NodeId, PeerMessage>[] placements =
        [
            id => new PeerIdentify(PeerMessageType.Hello, id),
            id => new PeerIdentify(PeerMessageType.Select, id, ["x"]),
            id => new PeerData(id, "t", new byte[] { 0xf6 }, [new PeerPathEntry(normal, 1)]),
            id => new PeerData(normal, "t", new byte[] { 0xf6 }, [new PeerPathEntry(normal, 1), new PeerPathEntry(id, 2)]),
            id => new PeerNodeSummary(1, [new NodeVersion(normal, 1), new NodeVersion(id, 2)]),
            id => new PeerNodeRequest([normal, id]),
            id => new PeerNodeDetails([new NodeDetails(id, 1, [])]),
            id => new PeerNodeDetails([new NodeDetails(normal, 1, [new NodeNeighbour(normal, 3), new NodeNeighbour(id, 4)])]),
        ];

        for (int i = 0; i < placements.Length; i++)
        {
            PeerMessage accepted = placements[i](atLimit);
            PeerMessageJson.AssertEqual(accepted, PeerMessageCodec.Decode(PeerMessageCodec.Encode(accepted)));

            foreach (NodeId id in new[] { overLimit, huge })
            {
                // Encoding does not check (our own ids are 16 bytes); decoding a peer's message does.
                byte[] encoded = PeerMessageCodec.Encode(placements[i](id));
                Exception? thrown = Record.Exception(() => PeerMessageCodec.Decode(encoded));
                Assert.True(thrown is ProtocolException, $"placement {i}, id of {id.Length} bytes: got {thrown?.GetType().Name ?? "a message"}");
            }
        }
    }

    private static void CheckArbitraryInput(byte[] input, string context)
    {
        string hex = Convert.ToHexStringLower(input);
        PeerMessage decoded;
        try
        {
            decoded = PeerMessageCodec.Decode(input);
        }
        catch (ProtocolException)
        {
            // A multi-segment copy of the same bytes must fail the same way.
            Exception? again = input.Length > 1 ? Record.Exception(() => PeerMessageCodec.Decode(TestSequence.Split(input, input.Length / 2))) : null;
            Assert.True(input.Length <= 1 || again is ProtocolException, $"{context} ({hex}): sequence decode gave {again?.GetType().Name ?? "a message"}");
            return;
        }
        catch (Exception ex)
        {
            Assert.Fail($"{context} ({hex}): {ex}");
            return;
        }

        // A success must be stable: re-encoding the message and decoding that gives the same message again.
        PeerMessage redecoded = PeerMessageCodec.Decode(PeerMessageCodec.Encode(decoded));
        Assert.True(PeerMessageJson.Describe(decoded) == PeerMessageJson.Describe(redecoded), $"{context} ({hex}): re-encoding changed the message");
    }

    private static PeerMessage RandomMessage(Random random, PeerMessageType type) => type switch
    {
        PeerMessageType.Ping => PeerSignal.Ping,
        PeerMessageType.Pong => PeerSignal.Pong,
        PeerMessageType.Ok => PeerSignal.Ok,
        PeerMessageType.Reject => PeerSignal.Reject,
        PeerMessageType.Begin => PeerSignal.Begin,
        PeerMessageType.Bye => PeerSignal.Bye,
        PeerMessageType.Hello or PeerMessageType.Select => new PeerIdentify(type, RandomId(random), RandomList(random, RandomText)),
        PeerMessageType.Auth => new PeerAuth(RandomText(random), RandomBytes(random, 64)),
        PeerMessageType.AuthData => new PeerAuthData(RandomBytes(random, 64)),
        PeerMessageType.DataAck or PeerMessageType.DataReject => new PeerDataResult(type, RandomUInt(random)),
        PeerMessageType.Data => new PeerData(
            RandomId(random),
            RandomText(random),
            RandomBytes(random, 64),
            RandomList(random, r => new PeerPathEntry(RandomId(r), RandomUInt(r)))),
        PeerMessageType.NodeSummary => new PeerNodeSummary(RandomUInt(random), RandomList(random, r => new NodeVersion(RandomId(r), RandomUInt(r)))),
        PeerMessageType.NodeRequest => new PeerNodeRequest(RandomList(random, RandomId)),
        PeerMessageType.NodeDetails => new PeerNodeDetails(RandomList(random, r => new NodeDetails(
            RandomId(r),
            RandomUInt(r),
            RandomList(r, r2 => new NodeNeighbour(RandomId(r2), RandomUInt(r2)))))),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    // Mostly the standard 16 bytes; sometimes any length the decoder accepts, including empty.
    private static NodeId RandomId(Random random) =>
        new(RandomBytesOfLength(random, random.Next(4) == 0 ? random.Next(PeerMessageCodec.MaxNodeIdLength + 1) : NodeId.StandardLength));

    private static byte[] RandomBytes(Random random, int maxLength) => RandomBytesOfLength(random, random.Next(maxLength + 1));

    private static byte[] RandomBytesOfLength(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string RandomText(Random random)
    {
        var text = new StringBuilder();
        int pieces = random.Next(0, 12);
        for (int i = 0; i < pieces; i++)
        {
            text.Append(TextPieces[random.Next(TextPieces.Length)]);
        }

        return text.ToString();
    }

    // Boundaries of every head width come up often; JS numbers stay at or below 2^53 - 1.
    private static ulong RandomUInt(Random random) => random.Next(3) switch
    {
        0 => (ulong)random.NextInt64(0, (long)MaxSafeInteger + 1),
        1 => new ulong[] { 0, 1, 23, 24, 255, 256, 65535, 65536, uint.MaxValue, (ulong)uint.MaxValue + 1, MaxSafeInteger }[random.Next(11)],
        _ => (ulong)random.Next(0, 1000),
    };

    private static T[] RandomList<T>(Random random, Func<Random, T> item)
    {
        var list = new T[random.Next(0, 21)];
        for (int i = 0; i < list.Length; i++)
        {
            list[i] = item(random);
        }

        return list;
    }

    private static byte[] Filled(int length, byte value)
    {
        byte[] bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }
}
