using System.Numerics;
using System.Text.Json;
using Ataraxia.Testing;

namespace Ataraxia.Core.Tests;

public class NodeIdTests
{
    private const string Alphabet = "0123456789abcdefghijlkmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    public static TheoryData<string> IdVectors => Vectors.Names("id");

    [Fact]
    public void IdCategoryHasAllVectors()
    {
        Assert.Equal(23, Vectors.InCategory("id").Count());
    }

    [Theory]
    [MemberData(nameof(IdVectors))]
    public void IdVector(string name)
    {
        JsonElement vector = Vectors.Get(name);
        int checks = 0;

        if (vector.TryGetProperty("alphabet", out JsonElement alphabet))
        {
            string digits = alphabet.GetString()!;
            Assert.Equal(Alphabet, digits);
            for (int i = 0; i < digits.Length; i++)
            {
                var single = new NodeId([(byte)i]);
                Assert.Equal(digits[i].ToString(), single.ToString());
                Assert.True(NodeId.Parse(digits[i].ToString()).SequenceEqual([(byte)i]));
            }

            foreach (JsonProperty property in vector.EnumerateObject())
            {
                if (property.Name.StartsWith("digit_", StringComparison.Ordinal))
                {
                    byte value = byte.Parse(property.Name["digit_".Length..], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.Equal(property.Value.GetString(), new NodeId([value]).ToString());
                    checks++;
                }
            }

            checks++;
        }

        if (vector.TryGetProperty("random_hex", out JsonElement randomHex))
        {
            // id/generate: the bit rules applied to pinned random bytes.
            NodeId generated = NodeId.FromRandomBytes(Vectors.Hex(randomHex.GetString()!));
            Assert.Equal(vector.GetProperty("hex").GetString(), Convert.ToHexStringLower(generated.ToByteArray()));
            Assert.Equal(vector.GetProperty("encoded").GetString(), generated.ToString());
            checks++;
        }

        if (vector.TryGetProperty("hex", out JsonElement hex) && vector.TryGetProperty("encoded", out JsonElement encodedForEncode))
        {
            byte[] bytes = Vectors.Hex(hex.GetString()!);
            var id = new NodeId(bytes);
            Assert.Equal(bytes.Length, id.Length);
            Assert.True(id.SequenceEqual(bytes));
            Assert.Equal(encodedForEncode.GetString(), id.ToString());
            checks++;
        }

        if (vector.TryGetProperty("encoded", out JsonElement encoded) && vector.TryGetProperty("decodeId_hex", out JsonElement decodedHex))
        {
            byte[] expected = Vectors.Hex(decodedHex.GetString()!);
            NodeId parsed = NodeId.Parse(encoded.GetString()!);
            Assert.Equal(expected, parsed.ToByteArray());
            Assert.Equal(new NodeId(expected), parsed);
            Assert.True(NodeId.TryParse(encoded.GetString(), out NodeId tried));
            Assert.Equal(parsed, tried);
            checks++;
        }

        if (vector.TryGetProperty("roundtrip_exact", out JsonElement roundtripExact))
        {
            var original = new NodeId(Vectors.Hex(vector.GetProperty("hex").GetString()!));
            NodeId roundtripped = NodeId.Parse(original.ToString());
            Assert.Equal(roundtripExact.GetBoolean(), original == roundtripped);
            checks++;
        }

        Assert.True(checks > 0, $"Vector {name} was not checked by anything.");
    }

    [Fact]
    public void DefaultIsSixteenZeroBytes()
    {
        NodeId id = default;
        Assert.Equal(16, id.Length);
        Assert.Equal(new byte[16], id.ToByteArray());
        Assert.True(id.SequenceEqual(new byte[16]));
        Assert.False(id.SequenceEqual(new byte[15]));
        Assert.False(id.SequenceEqual([]));
        Assert.Equal("0", id.ToString());
        Assert.Equal(new NodeId(new byte[16]), id);
        Assert.Equal(new NodeId(new byte[16]).GetHashCode(), id.GetHashCode());
    }

    [Fact]
    public void EqualityAndHashCompareBytes()
    {
        byte[] sixteen = Vectors.Hex("112233445566478899aabbccddeeff00");
        var a = new NodeId(sixteen);
        var b = new NodeId((byte[])sixteen.Clone());
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.False(a.Equals(null));
        Assert.False(a.Equals("wluWCJp6bvtVhn0yaaTeM"));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());

        var differentLast = new NodeId(Vectors.Hex("112233445566478899aabbccddeeff01"));
        Assert.NotEqual(a, differentLast);
        var differentFirst = new NodeId(Vectors.Hex("122233445566478899aabbccddeeff00"));
        Assert.NotEqual(a, differentFirst);

        // A 16-byte id never equals an id of another length, even when the value is the same.
        var seventeen = new NodeId(Vectors.Hex("00112233445566478899aabbccddeeff00"));
        var fifteen = new NodeId(Vectors.Hex("2233445566478899aabbccddeeff00"));
        var leadingZero = new NodeId(Vectors.Hex("002233445566478899aabbccddeeff00"));
        Assert.NotEqual(a, seventeen);
        Assert.NotEqual(seventeen, a);
        Assert.NotEqual(fifteen, leadingZero);
        Assert.NotEqual(leadingZero, fifteen);
        Assert.NotEqual(default, new NodeId([]));
        Assert.NotEqual(default, new NodeId(new byte[17]));

        // Ids of other lengths compare by content too.
        var c = new NodeId(Vectors.Hex("00112233445566478899aabbccddeeff00"));
        Assert.Equal(seventeen, c);
        Assert.Equal(seventeen.GetHashCode(), c.GetHashCode());
        Assert.Equal(new NodeId([]), new NodeId(ReadOnlySpan<byte>.Empty));
        Assert.Equal(new NodeId([]).GetHashCode(), NodeId.Parse("").GetHashCode());
        Assert.NotEqual(new NodeId([1, 2]), new NodeId([1, 3]));
        Assert.NotEqual(new NodeId([1, 2]), new NodeId([1, 2, 0]));

        var set = new HashSet<NodeId> { a, b, seventeen, c, fifteen, leadingZero, default, new NodeId([]) };
        Assert.Equal(6, set.Count);
    }

    [Fact]
    public void ConstructorAndToByteArrayCopy()
    {
        foreach (int length in new[] { 0, 3, 16, 20 })
        {
            byte[] source = Enumerable.Range(1, length).Select(i => (byte)i).ToArray();
            var id = new NodeId(source);
            byte[] expected = (byte[])source.Clone();
            if (length > 0)
            {
                source[0] = 0xff;
            }

            Assert.Equal(expected, id.ToByteArray());
            byte[] copy = id.ToByteArray();
            if (length > 0)
            {
                copy[0] = 0xee;
            }

            Assert.Equal(expected, id.ToByteArray());
            Assert.Equal(length, id.Length);
        }
    }

    [Fact]
    public void CopyToWritesPrefixAndRejectsShortDestination()
    {
        var sixteen = new NodeId(Vectors.Hex("0123456789ab4def8123456789abcdef"));
        var three = new NodeId([7, 8, 9]);

        byte[] big = new byte[20];
        big.AsSpan().Fill(0xaa);
        sixteen.CopyTo(big);
        Assert.Equal(Vectors.Hex("0123456789ab4def8123456789abcdefaaaaaaaa"), big);
        Assert.True(three.TryCopyTo(big));
        Assert.Equal(new byte[] { 7, 8, 9, 0x67 }, big[..4]);

        Assert.False(sixteen.TryCopyTo(new byte[15]));
        Assert.False(three.TryCopyTo(new byte[2]));
        Assert.Throws<ArgumentException>(() => sixteen.CopyTo(new byte[15]));
        Assert.Throws<ArgumentException>(() => three.CopyTo(new byte[2]));
        Assert.True(new NodeId([]).TryCopyTo([]));
    }

    [Fact]
    public void CompareToIsLexicographicUnsignedWithShorterPrefixFirst()
    {
        string[] ascendingHex =
        [
            "",
            "00",
            "0000",
            "00000000000000000000000000000000",
            "00000000000000000000000000000000ff",
            "00000000000000000000000000000001",
            "0001",
            "01",
            "0100",
            "7fffffffffffffffffffffffffffffff",
            "80",
            "80000000000000000000000000000000",
            "8000000000000000ffffffffffffffff",
            "8000000000000001",
            "80000000000000010000000000000000",
            "ff",
            "ffffffffffffffffffffffffffffffff",
            "ffffffffffffffffffffffffffffffff00",
        ];
        NodeId[] ids = ascendingHex.Select(h => new NodeId(Vectors.Hex(h))).ToArray();

        for (int i = 0; i < ids.Length; i++)
        {
            for (int j = 0; j < ids.Length; j++)
            {
                int expected = i.CompareTo(j);
                Assert.Equal(expected, Math.Sign(ids[i].CompareTo(ids[j])));
                Assert.Equal(expected < 0, ids[i] < ids[j]);
                Assert.Equal(expected <= 0, ids[i] <= ids[j]);
                Assert.Equal(expected > 0, ids[i] > ids[j]);
                Assert.Equal(expected >= 0, ids[i] >= ids[j]);
            }
        }

        NodeId[] shuffled = [.. ids.Reverse()];
        Array.Sort(shuffled);
        Assert.Equal(ids, shuffled);
        Assert.Equal(0, default(NodeId).CompareTo(new NodeId(new byte[16])));
    }

    [Fact]
    public void NewIdHasVersion4BitsAndDiffers()
    {
        var seen = new HashSet<NodeId>();
        for (int i = 0; i < 200; i++)
        {
            NodeId id = NodeId.NewId();
            byte[] bytes = id.ToByteArray();
            Assert.Equal(16, bytes.Length);
            Assert.Equal(0x40, bytes[6] & 0xf0);
            Assert.Equal(0x80, bytes[8] & 0xc0);
            Assert.True(seen.Add(id));
        }
    }

    [Fact]
    public void FromRandomBytesAppliesBitRules()
    {
        byte[] ones = Enumerable.Repeat((byte)0xff, 16).ToArray();
        Assert.Equal(Vectors.Hex("ffffffffffff4fffbfffffffffffffff"), NodeId.FromRandomBytes(ones).ToByteArray());
        Assert.Equal(Vectors.Hex("00000000000040008000000000000000"), NodeId.FromRandomBytes(new byte[16]).ToByteArray());
        Assert.Throws<ArgumentException>(() => NodeId.FromRandomBytes(new byte[15]));
        Assert.Throws<ArgumentException>(() => NodeId.FromRandomBytes(new byte[17]));
    }

    [Theory]
    [InlineData("-")]
    [InlineData(" ")]
    [InlineData("!")]
    [InlineData("ab-c")]
    [InlineData("abc ")]
    [InlineData(" abc")]
    [InlineData("a_b")]
    [InlineData("wluWCJp6bvtVhn0yaaTe+")]
    [InlineData("\u00e9")]
    [InlineData("\0")]
    [InlineData("\u0130")]
    public void TryParseRejectsInvalidCharacters(string text)
    {
        Assert.False(NodeId.TryParse(text, out NodeId result));
        Assert.Equal(default, result);
        Assert.False(NodeId.TryParse(text.AsSpan(), out _));
        Assert.Throws<FormatException>(() => NodeId.Parse(text));
        Assert.Throws<FormatException>(() => NodeId.Parse(text.AsSpan()));
    }

    [Fact]
    public void TryParseRejectsNull()
    {
        Assert.False(NodeId.TryParse(null, out _));
        Assert.False(TryParseGeneric<NodeId>(null, out _));
        Assert.Throws<ArgumentNullException>(() => NodeId.Parse(null!));
    }

    [Fact]
    public void TryParseRejectsOverlongStrings()
    {
        Assert.Equal(256, NodeId.MaxStringLength);
        string overlong = new('1', NodeId.MaxStringLength + 1);
        Assert.False(NodeId.TryParse(overlong, out _));
        Assert.Throws<FormatException>(() => NodeId.Parse(overlong));
        Assert.Throws<FormatException>(() => NodeId.Parse(new string('z', 1_000_000)));

        // The longest accepted string still parses and round-trips.
        string longest = new('Z', NodeId.MaxStringLength);
        Assert.True(NodeId.TryParse(longest, out NodeId id));
        Assert.Equal(longest, id.ToString());

        string zeros = new('0', NodeId.MaxStringLength);
        Assert.Equal(new byte[NodeId.MaxStringLength], NodeId.Parse(zeros).ToByteArray());
    }

    [Fact]
    public void ParseEmptyGivesEmptyId()
    {
        NodeId empty = NodeId.Parse("");
        Assert.Equal(0, empty.Length);
        Assert.Empty(empty.ToByteArray());
        Assert.Equal("0", empty.ToString());
    }

    [Fact]
    public void ParseHandlesUInt128Boundary()
    {
        // 2^128 - 1 is the largest value held on the 16-byte fast path; 2^128 needs 17 bytes.
        Assert.Equal(Vectors.Hex("ffffffffffffffffffffffffffffffff"), NodeId.Parse("7N42dgm5tFLK9N8MT7fHC7").ToByteArray());
        Assert.Equal(Vectors.Hex("0100000000000000000000000000000000"), NodeId.Parse("7N42dgm5tFLK9N8MT7fHC8").ToByteArray());
        Assert.Equal(Vectors.Hex("000100000000000000000000000000000000"), NodeId.Parse("07N42dgm5tFLK9N8MT7fHC8").ToByteArray());
        Assert.Equal("7N42dgm5tFLK9N8MT7fHC8", new NodeId(Vectors.Hex("0100000000000000000000000000000000")).ToString());

        // Leading '0' characters that bring the total to 16 bytes land on the fast path and compare equal.
        NodeId padded = NodeId.Parse("000000000000000l");
        Assert.Equal(16, padded.Length);
        Assert.Equal(new NodeId(Vectors.Hex("00000000000000000000000000000014")), padded);
    }

    [Fact]
    public void MatchesReferenceBigIntegerImplementation()
    {
        var random = new Random(12345);
        for (int iteration = 0; iteration < 2000; iteration++)
        {
            int length = random.Next(0, 48);
            byte[] bytes = new byte[length];
            random.NextBytes(bytes);
            if (length > 0 && random.Next(4) == 0)
            {
                bytes[0] = 0;
            }

            var id = new NodeId(bytes);
            string expected = ReferenceEncode(bytes);
            Assert.Equal(expected, id.ToString());
            Assert.Equal(ReferenceDecode(expected), NodeId.Parse(expected).ToByteArray());
            if (length > 0 && bytes[0] != 0)
            {
                Assert.Equal(id, NodeId.Parse(expected));
            }

            char[] exact = new char[expected.Length];
            Assert.True(id.TryFormat(exact, out int written, default, null));
            Assert.Equal(expected.Length, written);
            Assert.Equal(expected, new string(exact));
            if (expected.Length > 1)
            {
                char[] tooShort = new char[expected.Length - 1];
                Assert.False(id.TryFormat(tooShort, out written, default, null));
                Assert.Equal(0, written);
            }
        }
    }

    [Fact]
    public void FormattingInterfacesAgreeWithToString()
    {
        var id = new NodeId(Vectors.Hex("112233445566478899aabbccddeeff00"));
        Assert.Equal("wluWCJp6bvtVhn0yaaTeM", $"{id}");
        Assert.Equal("wluWCJp6bvtVhn0yaaTeM", ((IFormattable)id).ToString(null, null));
        Assert.Equal("wluWCJp6bvtVhn0yaaTeM", ((IFormattable)id).ToString("", null));
        Assert.Throws<FormatException>(() => ((IFormattable)id).ToString("x", null));
        Assert.Throws<FormatException>(() => id.TryFormat(new char[30], out _, "x", null));
        Assert.Equal(id, ParseGeneric<NodeId>("wluWCJp6bvtVhn0yaaTeM"));
        Assert.True(TryParseGeneric<NodeId>("wluWCJp6bvtVhn0yaaTeM", out NodeId parsed));
        Assert.Equal(id, parsed);
        Assert.False(TryParseGeneric<NodeId>("wluWCJp6bvtVhn0yaaTe-", out _));
    }

    private static T ParseGeneric<T>(string s)
        where T : ISpanParsable<T> => T.Parse(s.AsSpan(), null);

    private static bool TryParseGeneric<T>(string? s, out T result)
        where T : IParsable<T> => T.TryParse(s, null, out result!);

    private static string ReferenceEncode(byte[] bytes)
    {
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        if (value.IsZero)
        {
            return "0";
        }

        var digits = new System.Text.StringBuilder();
        while (!value.IsZero)
        {
            value = BigInteger.DivRem(value, 62, out BigInteger remainder);
            digits.Insert(0, Alphabet[(int)remainder]);
        }

        return digits.ToString();
    }

    private static byte[] ReferenceDecode(string text)
    {
        BigInteger value = BigInteger.Zero;
        foreach (char c in text)
        {
            value = (value * 62) + Alphabet.IndexOf(c, StringComparison.Ordinal);
        }

        byte[] minimal = value.IsZero ? [0] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        int zeros = 0;
        while (zeros < text.Length - 1 && text[zeros] == '0')
        {
            zeros++;
        }

        return [.. new byte[zeros], .. minimal];
    }
}
