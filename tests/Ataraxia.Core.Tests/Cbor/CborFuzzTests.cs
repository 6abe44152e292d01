using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ataraxia.Cbor;

namespace Ataraxia.Tests.Cbor;

/// <summary>
/// Seeded random tests of the CBOR codec: arbitrary bytes never raise anything but <see cref="CborException"/>,
/// generated values round-trip, and mutated or truncated encodings fail cleanly. Every seed is fixed, so a
/// failure is reproducible from the seed and the input hex in its message.
/// </summary>
public class CborFuzzTests
{
    private const int RandomInputsPerSeed = 500;
    private const int TreesPerSeed = 100;
    private const int MutationsPerTree = 8;

    // Bytes that start interesting items: long heads, indefinite lengths, breaks, reserved values, tags.
    private static readonly byte[] InterestingBytes =
    [
        0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x3b, 0x40, 0x41, 0x58, 0x5a, 0x5b, 0x5f,
        0x60, 0x61, 0x62, 0x78, 0x7a, 0x7b, 0x7f, 0x80, 0x81, 0x82, 0x98, 0x9a, 0x9b, 0x9f, 0xa0, 0xa1,
        0xa2, 0xb8, 0xbb, 0xbf, 0xc0, 0xc1, 0xc2, 0xd8, 0xdb, 0xdf, 0xe0, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
        0xf9, 0xfa, 0xfb, 0xfc, 0xff, 0x7e, 0x7c, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0xfe, 0x01,
    ];

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 42, 1234 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomBytesOnlyThrowCborException(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < RandomInputsPerSeed; i++)
        {
            byte[] input = new byte[random.Next(0, 48)];
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

            CheckArbitraryInput(input, $"seed {seed} case {i}");
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void GeneratedValuesRoundTrip(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < TreesPerSeed; i++)
        {
            CborValue value = RandomValue(random, 0);
            byte[] encoded = Encode(value, $"seed {seed} tree {i}");
            string context = $"seed {seed} tree {i} ({Convert.ToHexStringLower(encoded)})";

            CborValue decoded;
            try
            {
                decoded = CborValue.Decode(encoded);
            }
            catch (Exception ex)
            {
                Assert.Fail($"{context}: decoding {CborAssert.Describe(value)} threw {ex}");
                throw;
            }

            Assert.True(value.Equals(decoded), $"{context}: {CborAssert.Describe(value)} decoded as {CborAssert.Describe(decoded)}");
            CborAssert.Same(value, decoded);
            Assert.Equal(Convert.ToHexStringLower(encoded), Convert.ToHexStringLower(decoded.Encode()));

            // The reader sees exactly one item spanning the encoding.
            var reader = new CborReader(encoded);
            Assert.Equal(encoded, reader.ReadEncodedValue().ToArray());
            reader.ExpectEnd();
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedAndTruncatedEncodingsOnlyThrowCborException(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < TreesPerSeed; i++)
        {
            byte[] encoded = Encode(RandomValue(random, 0), $"seed {seed} tree {i}");
            for (int m = 0; m < MutationsPerTree; m++)
            {
                byte[] mutated = Mutate(random, encoded);
                CheckArbitraryInput(mutated, $"seed {seed} tree {i} mutation {m}");
            }

            // Every proper prefix of a single well-formed item is malformed.
            for (int length = 0; length < Math.Min(encoded.Length, 64); length++)
            {
                byte[] prefix = encoded[..length];
                string context = $"seed {seed} tree {i} prefix {length}";
                ExpectCborException(context, prefix, () => CborValue.Decode(prefix));
                ExpectCborException(context, prefix, () =>
                {
                    var reader = new CborReader(prefix);
                    reader.SkipValue();
                });
            }
        }
    }

    [Theory]
    [InlineData("5b0000000100000000" + "00112233445566")]
    [InlineData("7b0000000100000000" + "61626364656667")]
    [InlineData("5affffffff" + "0011223344556677889900")]
    [InlineData("7affffffff" + "6162636465666768696a6b")]
    [InlineData("5f5b0000000100000000" + "001122334455")]
    [InlineData("7f7affffffff" + "6162636465666768696a")]
    [InlineData("9b0000000100000000" + "00112233445566")]
    [InlineData("9affffffff" + "0011223344556677889900")]
    [InlineData("bb0000000100000000" + "00112233445566")]
    [InlineData("81825b0000000100000000" + "0011223344")]
    public void SixteenByteInputClaimingGigabytesAllocatesLittle(string hex)
    {
        byte[] input = Convert.FromHexString(hex);
        Assert.Equal(16, input.Length);

        // Warm up (type loading, exception machinery) so that only the decode itself is measured.
        _ = Record.Exception(() => CborValue.Decode(input));

        long before = GC.GetAllocatedBytesForCurrentThread();
        Exception? decodeError = Record.Exception(() => CborValue.Decode(input));
        Exception? skipError = Record.Exception(() =>
        {
            var reader = new CborReader(input);
            reader.SkipValue();
        });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsType<CborException>(decodeError);
        Assert.IsType<CborException>(skipError);
        Assert.True(allocated < 64 * 1024, $"Decoding {hex} allocated {allocated} bytes.");
    }

    [Fact]
    public void NestedArrayCountsDoNotAmplifyAllocations()
    {
        const int size = 64 * 1024;
        var input = new List<byte>(size);
        for (int level = 0; level < 64; level++)
        {
            uint count = (uint)(size - (5 * (level + 1)));
            input.Add(0x9a);
            input.AddRange([(byte)(count >> 24), (byte)(count >> 16), (byte)(count >> 8), (byte)count]);
        }

        while (input.Count < size)
        {
            input.Add(0xff);
        }

        byte[] bytes = [.. input];
        _ = Record.Exception(() => CborValue.Decode(bytes));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<CborException>(() => CborValue.Decode(bytes));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16L * size, $"Decoding a {size}-byte input allocated {allocated} bytes.");
    }

    [Fact]
    public void MapWithManyIntegerKeysDecodesInLinearishTime()
    {
        const int count = 40_000;
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CborWriter(buffer);
        writer.WriteStartMap(count);
        for (int i = 0; i < count; i++)
        {
            writer.WriteUInt64((ulong)i);
            writer.WriteNull();
        }

        var stopwatch = Stopwatch.StartNew();
        CborMap map = CborValue.Decode(buffer.WrittenSpan).AsMap();
        stopwatch.Stop();
        Assert.Equal(count, map.Count);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"Decoding {count} integer keys took {stopwatch.Elapsed}.");
    }

    [Fact]
    public void MapWithManyTextKeysDecodesQuickly()
    {
        const int count = 40_000;
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CborWriter(buffer);
        writer.WriteStartMap(count);
        for (int i = 0; i < count; i++)
        {
            writer.WriteTextString("k" + i.ToString(CultureInfo.InvariantCulture));
            writer.WriteNull();
        }

        var stopwatch = Stopwatch.StartNew();
        CborMap map = CborValue.Decode(buffer.WrittenSpan).AsMap();
        Assert.Equal(count, map.Count);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"Decoding {count} text keys took {stopwatch.Elapsed}.");
    }

    // Decodes arbitrary bytes every way the codec offers; anything other than success or CborException fails
    // the test with the context (seed, case) and the input, so the case can be replayed.
    private static void CheckArbitraryInput(byte[] input, string context)
    {
        string hex = Convert.ToHexStringLower(input);
        CborValue? value = null;
        Exception? decodeError = Record.Exception(() => value = CborValue.Decode(input));
        AssertCborExceptionOrNull(context, hex, "CborValue.Decode", decodeError);

        int skipped = -1;
        Exception? skipError = Record.Exception(() =>
        {
            var reader = new CborReader(input);
            reader.SkipValue();
            skipped = reader.Position;
        });
        AssertCborExceptionOrNull(context, hex, "CborReader.SkipValue", skipError);

        Exception? encodedError = Record.Exception(() =>
        {
            var reader = new CborReader(input);
            ReadOnlySpan<byte> item = reader.ReadEncodedValue();
            Assert.Equal(reader.Position, item.Length);
        });
        AssertCborExceptionOrNull(context, hex, "CborReader.ReadEncodedValue", encodedError);
        Assert.True((skipError is null) == (encodedError is null), $"{context}: SkipValue and ReadEncodedValue disagree on {hex}.");

        if (value is null)
        {
            return;
        }

        // A payload that decodes is one well-formed item spanning the whole input.
        Assert.True(skipError is null, $"{context}: Decode accepted {hex} but SkipValue threw {skipError}.");
        Assert.True(skipped == input.Length, $"{context}: Decode accepted {hex} but SkipValue consumed {skipped} bytes.");

        // Whatever decodes can be re-encoded, and the canonical encoding is a fixed point.
        byte[] canonical = Encode(value, $"{context} ({hex})");
        CborValue again = CborValue.Decode(canonical);
        Assert.Equal(Convert.ToHexStringLower(canonical), Convert.ToHexStringLower(again.Encode()));
        if (!ContainsDate(value))
        {
            // Dates lose sub-second precision when encoded; everything else is preserved.
            CborAssert.Same(value, again);
        }
    }

    private static void AssertCborExceptionOrNull(string context, string hex, string operation, Exception? exception)
    {
        if (exception is not null and not CborException)
        {
            Assert.Fail($"{context}: {operation} threw {exception.GetType().Name} instead of CborException for input {hex}: {exception}");
        }
    }

    private static void ExpectCborException(string context, byte[] input, Action action)
    {
        Exception? exception = Record.Exception(action);
        Assert.True(exception is CborException, $"{context}: expected CborException for {Convert.ToHexStringLower(input)}, got {exception?.ToString() ?? "success"}");
    }

    private static byte[] Encode(CborValue value, string context)
    {
        try
        {
            return value.Encode();
        }
        catch (Exception ex)
        {
            Assert.Fail($"{context}: encoding {CborAssert.Describe(value)} threw {ex}");
            throw;
        }
    }

    private static bool ContainsDate(CborValue value) => value switch
    {
        CborDate => true,
        CborArray array => array.Any(ContainsDate),
        CborMap map => map.Values.Any(ContainsDate),
        CborTagged tagged => ContainsDate(tagged.Content),
        _ => false,
    };

    private static byte[] Mutate(Random random, byte[] encoded)
    {
        var bytes = new List<byte>(encoded);
        switch (random.Next(6))
        {
            case 0:
                bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                break;
            case 1:
                bytes[random.Next(bytes.Count)] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 2:
                int cut = random.Next(bytes.Count);
                bytes.RemoveRange(cut, bytes.Count - cut);
                break;
            case 3:
                bytes.Insert(random.Next(bytes.Count + 1), InterestingBytes[random.Next(InterestingBytes.Length)]);
                break;
            case 4:
                bytes.RemoveAt(random.Next(bytes.Count));
                break;
            default:
                int position = random.Next(bytes.Count);
                bytes[position] ^= (byte)(1 << random.Next(8));
                break;
        }

        return [.. bytes];
    }

    private static CborValue RandomValue(Random random, int depth)
    {
        int kinds = depth >= 4 ? 11 : 15;
        switch (random.Next(kinds))
        {
            case 0:
                return CborValue.Null;
            case 1:
                return CborValue.Undefined;
            case 2:
                return random.Next(2) == 0;
            case 3:
            case 4:
                return new CborInteger(RandomInteger(random));
            case 5:
                return new CborFloat(RandomDouble(random));
            case 6:
                return new CborText(RandomText(random));
            case 7:
            {
                byte[] bytes = new byte[random.Next(0, random.Next(2) == 0 ? 8 : 300)];
                random.NextBytes(bytes);
                return new CborBytes(bytes);
            }

            case 8:
                // Whole seconds within the years 1-9999 (the encoding drops sub-second precision).
                return new CborDate(DateTimeOffset.FromUnixTimeSeconds(random.NextInt64(-62135596800, 253402300800)));
            case 9:
            {
                int simple = random.Next(20 + 224);
                return new CborSimple((byte)(simple < 20 ? simple : simple + 12));
            }

            case 10:
                return new CborTagged(JsValueConverter.RegExpTag, new CborText("/" + RandomText(random) + "/g"));
            case 11:
            case 12:
            {
                var items = new List<CborValue>();
                int count = random.Next(0, 6);
                for (int i = 0; i < count; i++)
                {
                    items.Add(RandomValue(random, depth + 1));
                }

                return new CborArray(items);
            }

            case 13:
            {
                var map = new CborMap();
                int count = random.Next(0, 6);
                for (int i = 0; i < count; i++)
                {
                    string key = random.Next(3) == 0 ? random.Next(0, 1000).ToString(CultureInfo.InvariantCulture) : RandomText(random);
                    map[key] = RandomValue(random, depth + 1);
                }

                return map;
            }

            default:
            {
                // Any tag except 0 and 1, which are dates.
                ulong tag = random.Next(3) switch
                {
                    0 => (ulong)random.Next(2, 24),
                    1 => (ulong)random.Next(24, 70000),
                    _ => (ulong)random.NextInt64(long.MaxValue) * 2,
                };
                return new CborTagged(tag < 2 ? 2 : tag, RandomValue(random, depth + 1));
            }
        }
    }

    private static long RandomInteger(Random random)
    {
        long magnitude = random.Next(6) switch
        {
            0 => random.Next(24),
            1 => random.Next(24, 256),
            2 => random.Next(256, 65536),
            3 => random.NextInt64(65536, 1L << 32),
            4 => random.NextInt64(1L << 32, CborWriter.MaxSafeInteger + 1),
            _ => CborWriter.MaxSafeInteger - random.Next(3),
        };
        return random.Next(2) == 0 ? magnitude : -magnitude;
    }

    private static double RandomDouble(Random random) => random.Next(8) switch
    {
        0 => double.NaN,
        1 => random.Next(2) == 0 ? double.PositiveInfinity : double.NegativeInfinity,
        2 => double.NegativeZero,
        3 => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-30, 30))),
        4 => BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue)),
        5 => random.Next(-1000, 1000) + 0.5,
        6 => Math.Pow(2, random.Next(53, 80)) * (random.Next(2) == 0 ? 1 : -1),
        _ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-300, 300)),
    };

    private static string RandomText(Random random)
    {
        int length = random.Next(0, random.Next(4) == 0 ? 40 : 6);
        var builder = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            int codePoint = random.Next(5) switch
            {
                0 or 1 => random.Next(0x20, 0x7f),
                2 => random.Next(0x80, 0x800),
                3 => random.Next(0x800, 0xd800),
                _ => random.Next(0x10000, 0x110000),
            };
            builder.Append(new Rune(codePoint).ToString());
        }

        return builder.ToString();
    }
}
