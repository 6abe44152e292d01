using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Cbor;

/// <summary>
/// The <c>payload/*</c> and <c>payload-decode/*</c> vectors (WIRE.md §2 and §7.3), plus the JS number rules of
/// <see cref="CborWriter.WriteNumber"/> and the JS key order of <see cref="CborMap"/>.
/// </summary>
public class CborVectorTests
{
    private const string UnencodablePrefix = "payload/unencodable/";

    public static TheoryData<string> PayloadVectors => Vectors.Names("payload");

    public static TheoryData<string> PayloadDecodeVectors => Vectors.Names("payload-decode");

    public static TheoryData<double, string> JsNumbers => new()
    {
        { 0.0, "00" },
        { double.NegativeZero, "f98000" },
        { double.NaN, "f97e00" },
        { BitConverter.Int64BitsToDouble(unchecked((long)0xfff8000000000001)), "f97e00" },
        { double.PositiveInfinity, "f97c00" },
        { double.NegativeInfinity, "f9fc00" },
        { 1.0, "01" },
        { -1.0, "20" },
        { 23.0, "17" },
        { 24.0, "1818" },
        { -25.0, "3818" },
        { 4294967296.0, "1b0000000100000000" },
        { 9007199254740991.0, "1b001fffffffffffff" },
        { -9007199254740991.0, "3b001ffffffffffffe" },
        { 9007199254740992.0, "fa5a000000" },
        { -9007199254740992.0, "fada000000" },
        { 9007199254740994.0, "fb4340000000000001" },
        { 18446744073709551616.0, "fa5f800000" },
        { 1e20, "fb4415af1d78b58c40" },
        { 0.5, "fa3f000000" },
        { 1.5, "fa3fc00000" },
        { -2.75, "fac0300000" },
        { 65536.5, "fa47800040" },
        { 0.1, "fb3fb999999999999a" },
        { 0.3, "fb3fd3333333333333" },
        { 1e300, "fb7e37e43c8800759c" },
        { 3.4028234663852886e38, "fa7f7fffff" },
        { double.MaxValue, "fb7fefffffffffffff" },
        { double.Epsilon, "fb0000000000000001" },
        { 1.401298464324817e-45, "fa00000001" },
        { -1e-300, "fb81a56e1fc2f8f359" },
    };

    [Fact]
    public void PayloadCategoriesHaveAllVectors()
    {
        Assert.Equal(61, Vectors.InCategory("payload").Count());
        Assert.Equal(15, Vectors.InCategory("payload-decode").Count());
        Assert.Equal(3, Vectors.InCategory("payload").Count(v => v.GetProperty("name").GetString()!.StartsWith(UnencodablePrefix, StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(PayloadVectors))]
    public void PayloadVector(string name)
    {
        JsonElement vector = Vectors.Get(name);
        if (name.StartsWith(UnencodablePrefix, StringComparison.Ordinal))
        {
            // bigint, function and symbol are JS-only types: no CborValue (nor any C# value handed to the payload
            // encoder) corresponds to them, so there is nothing to encode on this side. The vector only records that
            // the JS encoder throws for them, so a C# node never receives such a payload.
            Assert.True(vector.TryGetProperty("error", out JsonElement error), $"{name} has no error field.");
            Assert.StartsWith("cbor: cannot encode type", error.GetString(), StringComparison.Ordinal);
            Assert.EndsWith($"\"{name[UnencodablePrefix.Length..]}\"", error.GetString(), StringComparison.Ordinal);
            Assert.False(vector.TryGetProperty("hex", out _), $"{name} has an encoding although JS cannot encode it.");
            return;
        }

        Assert.False(vector.TryGetProperty("error", out _), $"{name} unexpectedly has an error field.");
        string hex = vector.GetProperty("hex").GetString()!;
        byte[] bytes = Vectors.Hex(hex);

        // (a) The C# value corresponding to the JS value encodes to exactly the bytes JS produced.
        CborValue value = JsValueConverter.ToCbor(vector.GetProperty("value"));
        Assert.Equal(hex, Convert.ToHexStringLower(value.Encode()));

        // (b) Decoding those bytes gives what the JS receiver got.
        CborValue expected = JsValueConverter.ToCbor(vector.GetProperty("decoded"));
        CborValue decoded = CborValue.Decode(bytes);
        CborAssert.Same(expected, decoded);

        // And the decoded value re-encodes to the same bytes (JS emits only canonical forms).
        Assert.Equal(hex, Convert.ToHexStringLower(decoded.Encode()));
    }

    [Theory]
    [MemberData(nameof(PayloadDecodeVectors))]
    public void PayloadDecodeVector(string name)
    {
        JsonElement vector = Vectors.Get(name);
        byte[] bytes = Vectors.Hex(vector.GetProperty("hex").GetString()!);
        JsonElement decoded = vector.GetProperty("decoded");
        if (JsValueConverter.IsError(decoded, out string message))
        {
            CborException exception = Assert.Throws<CborException>(() => CborValue.Decode(bytes));
            Assert.IsAssignableFrom<ProtocolException>(exception);
            Assert.False(string.IsNullOrEmpty(message));
            return;
        }

        CborAssert.Same(JsValueConverter.ToCbor(decoded), CborValue.Decode(bytes));
    }

    [Fact]
    public void DateDropsMillisecondsWhenEncoding()
    {
        JsonElement vector = Vectors.Get("payload/date");
        CborValue value = JsValueConverter.ToCbor(vector.GetProperty("value"));
        Assert.Equal(456, value.AsDateTimeOffset().Millisecond);
        Assert.Equal("c074323032312d31322d31385431303a32303a33305a", Convert.ToHexStringLower(value.Encode()));

        CborValue decoded = CborValue.Decode(value.Encode());
        Assert.Equal(new DateTimeOffset(2021, 12, 18, 10, 20, 30, TimeSpan.Zero), decoded.AsDateTimeOffset());
        Assert.NotEqual(value, decoded);
    }

    [Fact]
    public void DateIsEncodedInUtc()
    {
        var local = new DateTimeOffset(2021, 12, 18, 12, 20, 30, 999, TimeSpan.FromHours(2));
        Assert.Equal("c074323032312d31322d31385431303a32303a33305a", Convert.ToHexStringLower(new CborDate(local).Encode()));
    }

    [Theory]
    [MemberData(nameof(JsNumbers))]
    public void WriteNumberFollowsJavaScriptRules(double value, string hex)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new CborWriter(buffer).WriteNumber(value);
        Assert.Equal(hex, Convert.ToHexStringLower(buffer.WrittenSpan));

        // CborFloat goes through the same rules, and the bytes decode back to the same JS number.
        Assert.Equal(hex, Convert.ToHexStringLower(new CborFloat(value).Encode()));
        CborAssert.Same(new CborFloat(value), CborValue.Decode(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData(0L, "00")]
    [InlineData(23L, "17")]
    [InlineData(24L, "1818")]
    [InlineData(255L, "18ff")]
    [InlineData(256L, "190100")]
    [InlineData(65535L, "19ffff")]
    [InlineData(65536L, "1a00010000")]
    [InlineData(4294967295L, "1affffffff")]
    [InlineData(4294967296L, "1b0000000100000000")]
    [InlineData(-1L, "20")]
    [InlineData(-24L, "37")]
    [InlineData(-25L, "3818")]
    [InlineData(-256L, "38ff")]
    [InlineData(-257L, "390100")]
    [InlineData(-65536L, "39ffff")]
    [InlineData(-65537L, "3a00010000")]
    [InlineData(-4294967296L, "3affffffff")]
    [InlineData(-4294967297L, "3b0000000100000000")]
    [InlineData(9007199254740991L, "1b001fffffffffffff")]
    [InlineData(-9007199254740991L, "3b001ffffffffffffe")]
    public void IntegersUseMinimalHeads(long value, string hex)
    {
        Assert.Equal(hex, Convert.ToHexStringLower(new CborInteger(value).Encode()));
        Assert.Equal(hex, Convert.ToHexStringLower(new CborFloat(value).Encode()));
        var buffer = new ArrayBufferWriter<byte>();
        new CborWriter(buffer).WriteInt64(value);
        Assert.Equal(hex, Convert.ToHexStringLower(buffer.WrittenSpan));
        Assert.Equal(value, CborValue.Decode(Convert.FromHexString(hex)).AsInt64());
    }

    [Theory]
    [InlineData(9007199254740992L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void IntegersBeyondTheSafeRangeAreRejected(long value)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CborInteger(value));
    }

    [Fact]
    public void MinusTwoToThe53IsNotASafeInteger()
    {
        // -2^53 is what JS decodes 3b001fffffffffffff to; re-encoding must give what JS would send for that number.
        CborValue decoded = CborValue.Decode(Convert.FromHexString("3b001fffffffffffff"));
        Assert.Equal("fada000000", Convert.ToHexStringLower(decoded.Encode()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CborInteger(-9007199254740992));
    }

    [Fact]
    public void MapKeysFollowJavaScriptPropertyOrder()
    {
        var map = new CborMap
        {
            ["b"] = 1,
            ["a"] = 2,
            ["2"] = 3,
            ["1"] = 4,
        };
        Assert.Equal(["1", "2", "b", "a"], map.Keys);
        Assert.Equal("a4" + "613104" + "613203" + "616201" + "616102", Convert.ToHexStringLower(map.Encode()));
    }

    [Fact]
    public void MapKeyOrderMatchesTheVector()
    {
        // payload/map/key-order: JS object {b: 1, a: 3, 2: 2, 1: 4}, inserted here in source order.
        var map = new CborMap
        {
            ["b"] = 1,
            ["2"] = 2,
            ["a"] = 3,
            ["1"] = 4,
        };
        Assert.Equal(Vectors.Get("payload/map/key-order").GetProperty("hex").GetString(), Convert.ToHexStringLower(map.Encode()));
    }

    [Fact]
    public void MapIntegerKeysAreOnlyCanonicalArrayIndices()
    {
        var map = new CborMap
        {
            ["x"] = 0,
            ["10"] = 0,
            ["01"] = 0,
            ["-1"] = 0,
            ["9"] = 0,
            ["4294967295"] = 0,
            ["4294967294"] = 0,
            ["1.5"] = 0,
            [""] = 0,
            ["0"] = 0,
            ["12345678901"] = 0,
        };

        // Array indices (0 … 2^32 − 2 without leading zeros) ascending, then the rest in insertion order.
        Assert.Equal(["0", "9", "10", "4294967294", "x", "01", "-1", "4294967295", "1.5", "", "12345678901"], map.Keys);
    }

    [Fact]
    public void MapAssignmentKeepsPosition()
    {
        var map = new CborMap
        {
            ["b"] = 1,
            ["a"] = 2,
            ["1"] = 3,
        };
        map["b"] = 10;
        map["1"] = 30;
        Assert.Equal(["1", "b", "a"], map.Keys);
        Assert.Equal(10, map["b"].AsInt64());
        Assert.Equal(30, map["1"].AsInt64());
        Assert.Equal(3, map.Count);
    }

    [Fact]
    public void DecodedMapUsesJavaScriptOrderAndLastDuplicateWins()
    {
        // {"b": 1, "1": 2, "a": 3, "b": 4, 0: 5} as JS decodes it: {0: 5, 1: 2, b: 4, a: 3}.
        CborValue decoded = CborValue.Decode(Convert.FromHexString("a5" + "616201" + "613102" + "616103" + "616204" + "0005"));
        CborMap map = decoded.AsMap();
        Assert.Equal(["0", "1", "b", "a"], map.Keys);
        Assert.Equal(4, map["b"].AsInt64());
        Assert.Equal("a4" + "613005" + "613102" + "616204" + "616103", Convert.ToHexStringLower(decoded.Encode()));
    }

    [Theory]
    [InlineData("a10102", "1")]
    [InlineData("a12002", "-1")]
    [InlineData("a1420102f6", "1,2")]
    [InlineData("a140f6", "")]
    [InlineData("a1f4f6", "false")]
    [InlineData("a1f5f6", "true")]
    [InlineData("a1f6f6", "null")]
    [InlineData("a1f7f6", "undefined")]
    [InlineData("a1fa3fc00000f6", "1.5")]
    [InlineData("a1fb3ff0000000000000f6", "1")]
    [InlineData("a1f98000f6", "0")]
    [InlineData("a1f97e00f6", "NaN")]
    [InlineData("a1f97c00f6", "Infinity")]
    [InlineData("a1f9fc00f6", "-Infinity")]
    [InlineData("a1fb3fb999999999999af6", "0.1")]
    [InlineData("a17f616161626163fff6", "abc")]
    public void MapKeysBecomePropertyNames(string hex, string key)
    {
        CborMap map = CborValue.Decode(Convert.FromHexString(hex)).AsMap();
        Assert.Equal([key], map.Keys);
    }

    [Theory]
    [InlineData("a1fb444b1ae4d6e2ef50f6", "1e+21")]
    [InlineData("a1fb3e7ad7f29abcaf48f6", "1e-7")]
    [InlineData("a1fb4415af1d78b58c40f6", "100000000000000000000")]
    [InlineData("a1fa5f800000f6", "18446744073709552000")]
    public void FloatMapKeysUseJavaScriptNumberToString(string hex, string key)
    {
        CborMap map = CborValue.Decode(Convert.FromHexString(hex)).AsMap();
        Assert.Equal([key], map.Keys);
    }

    [Theory]
    [InlineData("a1c074323032312d31322d31385431303a32303a33305af6")]
    [InlineData("a18001f6")]
    [InlineData("a1a0f6")]
    [InlineData("a1c24101f6")]
    [InlineData("a1f0f6")]
    public void MapKeysWithoutPropertyNameAreRejected(string hex)
    {
        Assert.Throws<CborException>(() => CborValue.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void UndefinedMapValueIsKept()
    {
        var map = new CborMap { ["x"] = CborValue.Undefined, ["y"] = CborValue.Null };
        Assert.Equal("a26178f76179f6", Convert.ToHexStringLower(map.Encode()));
    }

    [Theory]
    [InlineData("c11a61bdb6e6", "2021-12-18T10:24:38.000Z")]
    [InlineData("c1fb41d86f6db9800000", "2021-12-18T10:24:38.000Z")]
    [InlineData("c1fb41d86f6db9a00000", "2021-12-18T10:24:38.500Z")]
    [InlineData("c100", "1970-01-01T00:00:00.000Z")]
    [InlineData("c120", "1969-12-31T23:59:59.000Z")]
    [InlineData("c074323032312d31322d31385431303a32303a33305a", "2021-12-18T10:20:30.000Z")]
    [InlineData("c07819323032312d31322d31385431323a32303a33302b30323a3030", "2021-12-18T10:20:30.000Z")]
    public void DatesDecodeFromTag0AndTag1(string hex, string iso)
    {
        DateTimeOffset expected = DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.Equal(expected, CborValue.Decode(Convert.FromHexString(hex)).AsDateTimeOffset());
    }

    [Theory]
    [InlineData("c001")]
    [InlineData("c0626869")]
    [InlineData("c1626869")]
    [InlineData("c1f97c00")]
    [InlineData("c1f97e00")]
    [InlineData("c1fb7e37e43c8800759c")]
    public void InvalidDatesAreRejected(string hex)
    {
        Assert.Throws<CborException>(() => CborValue.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Tag0AcceptsOnlyIsoDates()
    {
        Assert.Throws<CborException>(() => CborValue.Decode(Convert.FromHexString("c06a31322f31382f32303231")));
        Assert.Throws<CborException>(() => CborValue.Decode(Convert.FromHexString("c06a323032312d31322d3138")));
    }

    [Fact]
    public void Tag1TruncatesMillisecondsLikeJavaScript()
    {
        Assert.Equal(DateTimeOffset.UnixEpoch, CborValue.Decode(Convert.FromHexString("c1fbbf40624dd2f1a9fc")).AsDateTimeOffset());
    }

    [Fact]
    public void RegExpAndOtherTagsStayTagged()
    {
        CborValue regexp = CborValue.Decode(Convert.FromHexString("d823682f61622b632f6769"));
        CborTagged tagged = Assert.IsType<CborTagged>(regexp);
        Assert.Equal(35UL, tagged.Tag);
        Assert.Equal("/ab+c/gi", tagged.Content.AsString());

        CborTagged big = Assert.IsType<CborTagged>(CborValue.Decode(Convert.FromHexString("dbffffffffffffffff00")));
        Assert.Equal(ulong.MaxValue, big.Tag);
        Assert.Equal("dbffffffffffffffff00", Convert.ToHexStringLower(big.Encode()));
    }

    [Theory]
    [InlineData("f0", (byte)16)]
    [InlineData("e0", (byte)0)]
    [InlineData("f3", (byte)19)]
    [InlineData("f820", (byte)32)]
    [InlineData("f8ff", (byte)255)]
    public void SimpleValuesRoundTrip(string hex, byte value)
    {
        CborSimple simple = Assert.IsType<CborSimple>(CborValue.Decode(Convert.FromHexString(hex)));
        Assert.Equal(value, simple.Value);
        Assert.Equal(hex, Convert.ToHexStringLower(simple.Encode()));
    }

    [Fact]
    public void LoneSurrogateCannotBeEncoded()
    {
        Assert.Throws<CborException>(() => new CborText("a\ud800b").Encode());
        Assert.Throws<CborException>(() => new CborMap { ["\udc00"] = 1 }.Encode());
    }

    [Theory]
    [InlineData("")]
    [InlineData("0100")]
    [InlineData("f6f6")]
    [InlineData("1b0020000000000000")]
    [InlineData("3b0020000000000000")]
    [InlineData("1bffffffffffffffff")]
    public void StrictPayloadDecodingRejects(string hex)
    {
        Assert.Throws<CborException>(() => CborValue.Decode(Convert.FromHexString(hex)));
    }
}
