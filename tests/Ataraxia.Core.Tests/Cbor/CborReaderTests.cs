using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Ataraxia.Cbor;

namespace Ataraxia.Tests.Cbor;

/// <summary>Unit tests of <see cref="CborReader"/> on valid and invalid input.</summary>
public class CborReaderTests
{
    /// <summary>Valid single items used for the truncation and skip tests (one per construct).</summary>
    public static TheoryData<string> ValidItems => new()
    {
        "00",
        "1818",
        "190100",
        "1a00010000",
        "1b0000000100000000",
        "3b001ffffffffffffe",
        "43010203",
        "5803010203",
        "5f42010241 03ff",
        "6b68656c6c6f20776f726c64",
        "64f09f9880",
        "7f616161626163ff",
        "7f60ff",
        "83010203",
        "9f0102ff",
        "9f9f01ff820203ff",
        "a261610161626178",
        "bf616101616282f6f7ff",
        "a1656f75746572a2646c69737481a1616b617664666c6167f4",
        "c074323032312d31322d31385431303a32303a33305a",
        "c11a61bdb6e6",
        "d823682f61622b632f6769",
        "dbffffffffffffffff00",
        "f93c00",
        "fa3fc00000",
        "fb3fb999999999999a",
        "f820",
        "f8ff",
        "85016374776ff6f5f7",
        "9903e8" + string.Concat(Enumerable.Repeat("00", 1000)),
    };

    private delegate void ReaderAction(ref CborReader reader);

    [Theory]
    [InlineData("00", 0UL)]
    [InlineData("17", 23UL)]
    [InlineData("1818", 24UL)]
    [InlineData("18ff", 255UL)]
    [InlineData("190100", 256UL)]
    [InlineData("19ffff", 65535UL)]
    [InlineData("1a00010000", 65536UL)]
    [InlineData("1affffffff", 4294967295UL)]
    [InlineData("1b0000000100000000", 4294967296UL)]
    [InlineData("1bffffffffffffffff", ulong.MaxValue)]
    [InlineData("1800", 0UL)]
    [InlineData("1817", 23UL)]
    [InlineData("190000", 0UL)]
    [InlineData("1900ff", 255UL)]
    [InlineData("1a00000001", 1UL)]
    [InlineData("1a0000ffff", 65535UL)]
    [InlineData("1b0000000000000000", 0UL)]
    [InlineData("1b00000000ffffffff", 4294967295UL)]
    public void ReadUInt64AcceptsEveryWidth(string hex, ulong expected)
    {
        byte[] bytes = Hex(hex);
        var reader = new CborReader(bytes);
        Assert.Equal(CborMajorType.UnsignedInteger, reader.PeekMajorType());
        Assert.Equal(bytes[0], reader.PeekInitialByte());
        Assert.Equal(expected, reader.ReadUInt64());
        Assert.Equal(bytes.Length, reader.Position);
        Assert.True(reader.IsAtEnd);
        Assert.Equal(0, reader.BytesRemaining);
        reader.ExpectEnd();

        // The same bytes as a whole payload (for values JS can represent).
        if (expected <= CborWriter.MaxSafeInteger)
        {
            Assert.Equal((long)expected, CborValue.Decode(bytes).AsInt64());
        }
    }

    [Theory]
    [InlineData("00", 0L)]
    [InlineData("20", -1L)]
    [InlineData("37", -24L)]
    [InlineData("3800", -1L)]
    [InlineData("3818", -25L)]
    [InlineData("390100", -257L)]
    [InlineData("3a00010000", -65537L)]
    [InlineData("3b0000000100000000", -4294967297L)]
    [InlineData("3b7fffffffffffffff", long.MinValue)]
    [InlineData("1b7fffffffffffffff", long.MaxValue)]
    [InlineData("3b0000000000000000", -1L)]
    public void ReadInt64(string hex, long expected)
    {
        var reader = new CborReader(Hex(hex));
        Assert.Equal(expected, reader.ReadInt64());
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("1b8000000000000000")]
    [InlineData("3b8000000000000000")]
    [InlineData("3bffffffffffffffff")]
    [InlineData("40")]
    [InlineData("f6")]
    [InlineData("1f")]
    [InlineData("3f")]
    [InlineData("fa3f800000")]
    public void ReadInt64Rejects(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadInt64());
    }

    [Theory]
    [InlineData("17", 23UL, false)]
    [InlineData("20", 0UL, true)]
    [InlineData("3bffffffffffffffff", ulong.MaxValue, true)]
    [InlineData("1bffffffffffffffff", ulong.MaxValue, false)]
    [InlineData("3900ff", 255UL, true)]
    public void ReadIntegerArgument(string hex, ulong argument, bool negative)
    {
        var reader = new CborReader(Hex(hex));
        Assert.Equal(argument, reader.ReadIntegerArgument(out bool isNegative));
        Assert.Equal(negative, isNegative);
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("40")]
    [InlineData("c000")]
    [InlineData("f4")]
    [InlineData("1f")]
    public void ReadIntegerArgumentRejects(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadIntegerArgument(out _));
    }

    [Theory]
    [InlineData("20")]
    [InlineData("60")]
    [InlineData("80")]
    [InlineData("f97c00")]
    public void ReadUInt64RejectsOtherTypes(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadUInt64());
    }

    [Theory]
    [InlineData("00", 0)]
    [InlineData("1a7fffffff", int.MaxValue)]
    [InlineData("1b000000007fffffff", int.MaxValue)]
    public void ReadCount(string hex, int expected)
    {
        var reader = new CborReader(Hex(hex));
        Assert.Equal(expected, reader.ReadCount());
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("1a80000000")]
    [InlineData("1bffffffffffffffff")]
    [InlineData("20")]
    public void ReadCountRejects(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadCount());
    }

    [Theory]
    [InlineData("40", "")]
    [InlineData("43010203", "010203")]
    [InlineData("5800", "")]
    [InlineData("5803010203", "010203")]
    [InlineData("59000201ff", "01ff")]
    [InlineData("5a0000000101", "01")]
    [InlineData("5b000000000000000101", "01")]
    [InlineData("5fff", "")]
    [InlineData("5f40ff", "")]
    [InlineData("5f4201024103ff", "010203")]
    [InlineData("5f5802010240ff", "0102")]
    [InlineData("5f410141024103ff", "010203")]
    public void ReadByteString(string hex, string content)
    {
        byte[] bytes = Hex(hex);
        var reader = new CborReader(bytes);
        Assert.Equal(CborMajorType.ByteString, reader.PeekMajorType());
        Assert.Equal(content, Convert.ToHexStringLower(reader.ReadByteString()));
        reader.ExpectEnd();
        Assert.Equal(content, Convert.ToHexStringLower(CborValue.Decode(bytes).AsBytes().Span));
    }

    [Fact]
    public void DefiniteByteStringIsASliceOfTheInput()
    {
        byte[] bytes = Hex("43010203");
        var reader = new CborReader(bytes);
        ReadOnlySpan<byte> content = reader.ReadByteString();
        Assert.True(Unsafe.AreSame(ref bytes[1], ref MemoryMarshal.GetReference(content)));
    }

    [Theory]
    [InlineData("60", "")]
    [InlineData("6161", "a")]
    [InlineData("7800", "")]
    [InlineData("780161", "a")]
    [InlineData("79000161", "a")]
    [InlineData("7a0000000161", "a")]
    [InlineData("7b000000000000000161", "a")]
    [InlineData("66c3a5c3a4c3b6", "åäö")]
    [InlineData("64f09f9880", "😀")]
    [InlineData("63e282ac", "€")]
    [InlineData("7fff", "")]
    [InlineData("7f60ff", "")]
    [InlineData("7f616161626163ff", "abc")]
    [InlineData("7f626162780163616460ff", "abcd")]
    public void ReadTextString(string hex, string text)
    {
        byte[] bytes = Hex(hex);
        var reader = new CborReader(bytes);
        Assert.Equal(CborMajorType.TextString, reader.PeekMajorType());
        Assert.Equal(text, reader.ReadTextString());
        reader.ExpectEnd();

        var utf8Reader = new CborReader(bytes);
        Assert.Equal(Encoding.UTF8.GetBytes(text), utf8Reader.ReadUtf8String().ToArray());
        utf8Reader.ExpectEnd();

        Assert.Equal(text, CborValue.Decode(bytes).AsString());
    }

    [Theory]
    [InlineData("62c328")]
    [InlineData("61ff")]
    [InlineData("61c3")]
    [InlineData("62c080")]
    [InlineData("63eda080")]
    [InlineData("64f4908080")]
    [InlineData("7f62c328ff")]
    public void InvalidUtf8IsRejected(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadTextString());
        AssertThrows(hex, (ref CborReader r) => r.ReadUtf8String());
        Assert.Throws<CborException>(() => CborValue.Decode(Hex(hex)));
    }

    [Theory]
    [InlineData("40")]
    [InlineData("00")]
    [InlineData("80")]
    [InlineData("ff")]
    public void ReadTextStringRejectsOtherTypes(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadTextString());
        AssertThrows(hex, (ref CborReader r) => r.ReadUtf8String());
    }

    [Theory]
    [InlineData("60")]
    [InlineData("00")]
    public void ReadByteStringRejectsOtherTypes(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadByteString());
    }

    [Theory]
    [InlineData("80", 0)]
    [InlineData("83010203", 3)]
    [InlineData("980101", 1)]
    [InlineData("9900020102", 2)]
    [InlineData("9a0000000101", 1)]
    [InlineData("9b000000000000000101", 1)]
    public void ReadStartArrayDefinite(string hex, int count)
    {
        var reader = new CborReader(Hex(hex));
        Assert.Equal(CborMajorType.Array, reader.PeekMajorType());
        Assert.Equal(count, reader.ReadStartArray());
        for (int i = 0; i < count; i++)
        {
            Assert.Equal((ulong)(i + 1), reader.ReadUInt64());
        }

        reader.ExpectEnd();
    }

    [Fact]
    public void ReadStartArrayIndefinite()
    {
        var reader = new CborReader(Hex("9f0102ff"));
        Assert.Null(reader.ReadStartArray());
        Assert.False(reader.PeekIsBreak());
        Assert.Equal(1UL, reader.ReadUInt64());
        Assert.Equal(2UL, reader.ReadUInt64());
        Assert.True(reader.PeekIsBreak());
        Assert.Equal(0xff, reader.PeekInitialByte());
        reader.ReadBreak();
        Assert.False(reader.PeekIsBreak());
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("a0", 0)]
    [InlineData("a2010203 04", 2)]
    [InlineData("b8020102 0304", 2)]
    [InlineData("b900010102", 1)]
    [InlineData("ba000000010102", 1)]
    [InlineData("bb00000000000000010102", 1)]
    public void ReadStartMapDefinite(string hex, int count)
    {
        var reader = new CborReader(Hex(hex));
        Assert.Equal(CborMajorType.Map, reader.PeekMajorType());
        Assert.Equal(count, reader.ReadStartMap());
        for (int i = 0; i < count * 2; i++)
        {
            Assert.Equal((ulong)(i + 1), reader.ReadUInt64());
        }

        reader.ExpectEnd();
    }

    [Fact]
    public void ReadStartMapIndefinite()
    {
        var reader = new CborReader(Hex("bf6161f5ff"));
        Assert.Null(reader.ReadStartMap());
        Assert.Equal("a", reader.ReadTextString());
        Assert.True(reader.ReadBoolean());
        reader.ReadBreak();
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("a0")]
    [InlineData("bf")]
    [InlineData("00")]
    [InlineData("40")]
    [InlineData("")]
    public void ReadStartArrayRejectsOtherTypes(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadStartArray());
    }

    [Theory]
    [InlineData("80")]
    [InlineData("9f")]
    [InlineData("00")]
    [InlineData("60")]
    [InlineData("")]
    public void ReadStartMapRejectsOtherTypes(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadStartMap());
    }

    [Theory]
    [InlineData("c0", 0UL)]
    [InlineData("c1", 1UL)]
    [InlineData("d7", 23UL)]
    [InlineData("d823", 35UL)]
    [InlineData("d80c", 12UL)]
    [InlineData("d9d9f7", 55799UL)]
    [InlineData("da00010000", 65536UL)]
    [InlineData("dbffffffffffffffff", ulong.MaxValue)]
    public void ReadTag(string hex, ulong tag)
    {
        var reader = new CborReader(Hex(hex + "f6"));
        Assert.Equal(CborMajorType.Tag, reader.PeekMajorType());
        Assert.Equal(tag, reader.ReadTag());
        Assert.Equal(22, reader.ReadSimpleValue());
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("00")]
    [InlineData("df00")]
    public void ReadTagRejects(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadTag());
    }

    [Theory]
    [InlineData("f4", false)]
    [InlineData("f5", true)]
    public void ReadBoolean(string hex, bool value)
    {
        var reader = new CborReader(Hex(hex));
        Assert.Equal(value, reader.ReadBoolean());
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("f6")]
    [InlineData("f7")]
    [InlineData("00")]
    [InlineData("f814")]
    [InlineData("")]
    public void ReadBooleanRejects(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadBoolean());
    }

    [Theory]
    [InlineData("e0", (byte)0)]
    [InlineData("f0", (byte)16)]
    [InlineData("f3", (byte)19)]
    [InlineData("f4", (byte)20)]
    [InlineData("f5", (byte)21)]
    [InlineData("f6", (byte)22)]
    [InlineData("f7", (byte)23)]
    [InlineData("f820", (byte)32)]
    [InlineData("f880", (byte)128)]
    [InlineData("f8ff", (byte)255)]
    public void ReadSimpleValue(string hex, byte value)
    {
        var reader = new CborReader(Hex(hex));
        Assert.Equal(CborMajorType.SimpleOrFloat, reader.PeekMajorType());
        Assert.Equal(value, reader.ReadSimpleValue());
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("f800")]
    [InlineData("f814")]
    [InlineData("f818")]
    [InlineData("f81f")]
    [InlineData("f8")]
    [InlineData("f93c00")]
    [InlineData("fa3fc00000")]
    [InlineData("fb3ff0000000000000")]
    [InlineData("fc")]
    [InlineData("fd")]
    [InlineData("fe")]
    [InlineData("ff")]
    [InlineData("00")]
    [InlineData("")]
    public void ReadSimpleValueRejects(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadSimpleValue());
    }

    [Theory]
    [InlineData("f93c00", 1.0)]
    [InlineData("f93e00", 1.5)]
    [InlineData("f9c400", -4.0)]
    [InlineData("f97bff", 65504.0)]
    [InlineData("f90001", 5.960464477539063e-8)]
    [InlineData("f90400", 6.103515625e-5)]
    [InlineData("f93555", 0.333251953125)]
    [InlineData("f97c00", double.PositiveInfinity)]
    [InlineData("f9fc00", double.NegativeInfinity)]
    [InlineData("f90000", 0.0)]
    [InlineData("fa3fc00000", 1.5)]
    [InlineData("fa47c35000", 100000.0)]
    [InlineData("fa7f7fffff", 3.4028234663852886e38)]
    [InlineData("fa00000001", 1.401298464324817e-45)]
    [InlineData("fa7f800000", double.PositiveInfinity)]
    [InlineData("fb3ff0000000000000", 1.0)]
    [InlineData("fb3fb999999999999a", 0.1)]
    [InlineData("fb7fefffffffffffff", double.MaxValue)]
    [InlineData("fb0000000000000001", double.Epsilon)]
    [InlineData("fbc010666666666666", -4.1)]
    public void ReadDouble(string hex, double value)
    {
        var reader = new CborReader(Hex(hex));
        Assert.Equal(value, reader.ReadDouble());
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("f98000")]
    [InlineData("fa80000000")]
    [InlineData("fb8000000000000000")]
    public void ReadDoubleKeepsNegativeZero(string hex)
    {
        var reader = new CborReader(Hex(hex));
        double value = reader.ReadDouble();
        Assert.Equal(0.0, value);
        Assert.True(double.IsNegative(value));
    }

    [Theory]
    [InlineData("f97e00")]
    [InlineData("f97c01")]
    [InlineData("fa7fc00000")]
    [InlineData("fb7ff8000000000000")]
    public void ReadDoubleNaN(string hex)
    {
        var reader = new CborReader(Hex(hex));
        Assert.True(double.IsNaN(reader.ReadDouble()));
        reader.ExpectEnd();
    }

    [Theory]
    [InlineData("f6")]
    [InlineData("f820")]
    [InlineData("01")]
    [InlineData("f93c")]
    [InlineData("fa3fc000")]
    [InlineData("fb3ff00000000000")]
    [InlineData("")]
    public void ReadDoubleRejects(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadDouble());
    }

    [Theory]
    [MemberData(nameof(ValidItems))]
    public void SkipValueAndReadEncodedValueConsumeExactlyOneItem(string hex)
    {
        byte[] item = Hex(hex);
        byte[] sequence = [.. item, 0x17, .. item];

        var reader = new CborReader(sequence);
        reader.SkipValue();
        Assert.Equal(item.Length, reader.Position);
        Assert.Equal(23UL, reader.ReadUInt64());
        Assert.Equal(item, reader.ReadEncodedValue().ToArray());
        Assert.True(reader.IsAtEnd);
        Assert.True(reader.Remaining.IsEmpty);
        reader.ExpectEnd();

        var single = new CborReader(item);
        Assert.Equal(item, single.ReadEncodedValue().ToArray());
        single.ExpectEnd();
    }

    [Theory]
    [MemberData(nameof(ValidItems))]
    public void TruncationAtEveryPositionThrowsCborException(string hex)
    {
        byte[] item = Hex(hex);
        for (int length = 0; length < item.Length; length++)
        {
            byte[] prefix = item[..length];
            string prefixHex = Convert.ToHexStringLower(prefix);
            AssertOnlyCborException(prefixHex, () =>
            {
                var reader = new CborReader(prefix);
                reader.SkipValue();
            });
            AssertOnlyCborException(prefixHex, () =>
            {
                var reader = new CborReader(prefix);
                _ = reader.ReadEncodedValue();
            });
            AssertOnlyCborException(prefixHex, () => CborValue.Decode(prefix));
        }
    }

    [Fact]
    public void TruncatedHeadsThrowCborExceptionFromEveryReadMethod()
    {
        string[] heads = ["18", "19", "1900", "1a000000", "1b00000000000000", "38", "58", "5a", "78", "98", "b8", "d8", "f8", "f9", "fa00", "fb000000", ""];
        foreach (string hex in heads)
        {
            AssertThrows(hex, (ref CborReader r) => r.ReadUInt64());
            AssertThrows(hex, (ref CborReader r) => r.ReadInt64());
            AssertThrows(hex, (ref CborReader r) => r.ReadIntegerArgument(out _));
            AssertThrows(hex, (ref CborReader r) => r.ReadCount());
            AssertThrows(hex, (ref CborReader r) => r.ReadByteString());
            AssertThrows(hex, (ref CborReader r) => r.ReadTextString());
            AssertThrows(hex, (ref CborReader r) => r.ReadUtf8String());
            AssertThrows(hex, (ref CborReader r) => r.ReadStartArray());
            AssertThrows(hex, (ref CborReader r) => r.ReadStartMap());
            AssertThrows(hex, (ref CborReader r) => r.ReadTag());
            AssertThrows(hex, (ref CborReader r) => r.ReadBoolean());
            AssertThrows(hex, (ref CborReader r) => r.ReadSimpleValue());
            AssertThrows(hex, (ref CborReader r) => r.ReadDouble());
            AssertThrows(hex, (ref CborReader r) => r.SkipValue());
            AssertThrows(hex, (ref CborReader r) => r.ReadEncodedValue());
        }
    }

    [Fact]
    public void EmptyInput()
    {
        var reader = new CborReader([]);
        Assert.True(reader.IsAtEnd);
        Assert.Equal(0, reader.BytesRemaining);
        Assert.False(reader.PeekIsBreak());
        reader.ExpectEnd();
        AssertThrows(string.Empty, (ref CborReader r) => r.PeekMajorType());
        AssertThrows(string.Empty, (ref CborReader r) => r.PeekInitialByte());
        AssertThrows(string.Empty, (ref CborReader r) => r.ReadBreak());
        Assert.Throws<CborException>(() => CborValue.Decode([]));
    }

    [Fact]
    public void PeekDoesNotConsume()
    {
        var reader = new CborReader(Hex("820102"));
        Assert.Equal(CborMajorType.Array, reader.PeekMajorType());
        Assert.Equal(0x82, reader.PeekInitialByte());
        Assert.Equal(0, reader.Position);
        Assert.Equal(3, reader.BytesRemaining);
        Assert.Equal(Hex("820102"), reader.Remaining.ToArray());
        Assert.Equal(2, reader.ReadStartArray());
        Assert.Equal(Hex("0102"), reader.Remaining.ToArray());
    }

    [Fact]
    public void ExpectEndRejectsTrailingBytes()
    {
        var reader = new CborReader(Hex("0100"));
        Assert.Equal(1UL, reader.ReadUInt64());
        Assert.False(reader.IsAtEnd);
        AssertThrows("0100", (ref CborReader r) =>
        {
            r.ReadUInt64();
            r.ExpectEnd();
        });
    }

    [Theory]
    [InlineData("00")]
    [InlineData("9f")]
    [InlineData("")]
    public void ReadBreakRejectsNonBreak(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadBreak());
    }

    [Fact]
    public void ConstructorRejectsNonPositiveDepth()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = new CborReader([], 0); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = new CborReader([], -1); });
        Assert.Throws<ArgumentOutOfRangeException>(() => CborValue.Decode(Hex("00"), 0));
        Assert.Equal(CborReader.DefaultMaxDepth, new CborReader([]).MaxDepth);
        Assert.Equal(7, new CborReader([], 7).MaxDepth);
    }

    [Theory]
    [InlineData("5affffffff010203")]
    [InlineData("5a00000004010203")]
    [InlineData("7affffffff616263")]
    [InlineData("5bffffffffffffffff010203")]
    [InlineData("7b0000000100000000616263")]
    [InlineData("5b7fffffffffffffff")]
    [InlineData("5f5affffffff010203ff")]
    [InlineData("7f7affffffff616263ff")]
    [InlineData("5f41015affffffffff")]
    [InlineData("44010203")]
    [InlineData("64616263")]
    public void StringLengthBeyondInputThrowsBeforeAllocating(string hex)
    {
        byte[] bytes = Hex(hex);

        // Warm up so that only the decoding itself is measured.
        _ = Record.Exception(() => CborValue.Decode(bytes));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<CborException>(() => CborValue.Decode(bytes));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"Decoding {hex} allocated {allocated} bytes.");

        AssertThrows(hex, (ref CborReader r) => r.SkipValue());
        if ((bytes[0] >> 5) == 2)
        {
            AssertThrows(hex, (ref CborReader r) => r.ReadByteString());
        }
        else
        {
            AssertThrows(hex, (ref CborReader r) => r.ReadTextString());
        }
    }

    [Theory]
    [InlineData("9bffffffffffffffff")]
    [InlineData("9bffffffffffffffff00000000")]
    [InlineData("9b0000000080000000")]
    [InlineData("9a7fffffff0000")]
    [InlineData("9affffffff00")]
    [InlineData("830102")]
    [InlineData("99ffff00")]
    public void ArrayCountBeyondInputIsRejected(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadStartArray());
        AssertThrows(hex, (ref CborReader r) => r.SkipValue());
        AssertCheapFailure(hex);
    }

    [Theory]
    [InlineData("bbffffffffffffffff")]
    [InlineData("bb0000000040000000")]
    [InlineData("ba7fffffff0000")]
    [InlineData("a2010203")]
    [InlineData("a1")]
    [InlineData("a101")]
    [InlineData("b9ffff00000000")]
    public void MapCountBeyondInputIsRejected(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.ReadStartMap());
        AssertThrows(hex, (ref CborReader r) => r.SkipValue());
        AssertCheapFailure(hex);
    }

    [Fact]
    public void ArrayAndMapCountsExactlyMatchingInputAreAccepted()
    {
        var array = new CborReader(Hex("83010203"));
        Assert.Equal(3, array.ReadStartArray());
        var map = new CborReader(Hex("a201020304"));
        Assert.Equal(2, map.ReadStartMap());
    }

    [Fact]
    public void ReservedAdditionalInformationIsRejected()
    {
        for (int major = 0; major < 8; major++)
        {
            for (int info = 28; info <= 30; info++)
            {
                string hex = Convert.ToHexStringLower([(byte)((major << 5) | info), 0, 0, 0, 0, 0, 0, 0, 0]);
                AssertThrows(hex, (ref CborReader r) => r.SkipValue());
                AssertThrows(hex, (ref CborReader r) => r.ReadEncodedValue());
                Assert.Throws<CborException>(() => CborValue.Decode(Hex(hex)));
                switch (major)
                {
                    case 0:
                        AssertThrows(hex, (ref CborReader r) => r.ReadUInt64());
                        break;
                    case 1:
                        AssertThrows(hex, (ref CborReader r) => r.ReadInt64());
                        break;
                    case 2:
                        AssertThrows(hex, (ref CborReader r) => r.ReadByteString());
                        break;
                    case 3:
                        AssertThrows(hex, (ref CborReader r) => r.ReadTextString());
                        break;
                    case 4:
                        AssertThrows(hex, (ref CborReader r) => r.ReadStartArray());
                        break;
                    case 5:
                        AssertThrows(hex, (ref CborReader r) => r.ReadStartMap());
                        break;
                    case 6:
                        AssertThrows(hex, (ref CborReader r) => r.ReadTag());
                        break;
                    default:
                        AssertThrows(hex, (ref CborReader r) => r.ReadSimpleValue());
                        AssertThrows(hex, (ref CborReader r) => r.ReadDouble());
                        break;
                }
            }
        }
    }

    [Theory]
    [InlineData("1f")]
    [InlineData("3f")]
    [InlineData("df00")]
    [InlineData("9f1fff")]
    [InlineData("bf1f00ff")]
    public void IndefiniteIntegersAndTagsAreRejected(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.SkipValue());
        Assert.Throws<CborException>(() => CborValue.Decode(Hex(hex)));
    }

    [Theory]
    [InlineData("ff")]
    [InlineData("82ff01")]
    [InlineData("8201ff")]
    [InlineData("a1ff01")]
    [InlineData("a101ff")]
    [InlineData("c0ff")]
    [InlineData("bf01ff")]
    [InlineData("9f")]
    [InlineData("bf")]
    [InlineData("5f")]
    [InlineData("7f")]
    [InlineData("9f01")]
    public void BreakOutsideIndefiniteOrMissingBreakIsRejected(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.SkipValue());
        Assert.Throws<CborException>(() => CborValue.Decode(Hex(hex)));
    }

    [Theory]
    [InlineData("5f6161ff")]
    [InlineData("7f4161ff")]
    [InlineData("5f5fffff")]
    [InlineData("7f7f6161ffff")]
    [InlineData("5f01ff")]
    [InlineData("7f00ff")]
    [InlineData("5f80ff")]
    [InlineData("7fc06161ff")]
    [InlineData("7ff6ff")]
    public void InvalidChunksOfIndefiniteStringsAreRejected(string hex)
    {
        AssertThrows(hex, (ref CborReader r) => r.SkipValue());
        Assert.Throws<CborException>(() => CborValue.Decode(Hex(hex)));
        if (hex.StartsWith("5f", StringComparison.Ordinal))
        {
            AssertThrows(hex, (ref CborReader r) => r.ReadByteString());
        }
        else
        {
            AssertThrows(hex, (ref CborReader r) => r.ReadTextString());
        }
    }

    [Theory]
    [InlineData((byte)0x81)]
    [InlineData((byte)0x9f)]
    [InlineData((byte)0xc6)]
    public void DeepNestingThrowsWithoutStackOverflow(byte container)
    {
        // 10,000 nested containers (or tags) around a 0 with the default depth of 64.
        byte[] bytes = new byte[10_001];
        Array.Fill(bytes, container);
        bytes[^1] = 0;
        AssertOnlyCborException("deep", () =>
        {
            var reader = new CborReader(bytes);
            reader.SkipValue();
        });
        AssertOnlyCborException("deep", () => CborValue.Decode(bytes));
    }

    [Fact]
    public void DeepMapNestingThrows()
    {
        // {"": {"": … 0 …}} 10,000 times.
        var bytes = new List<byte>();
        for (int i = 0; i < 10_000; i++)
        {
            bytes.Add(0xa1);
            bytes.Add(0x60);
        }

        bytes.Add(0);
        byte[] input = [.. bytes];
        AssertOnlyCborException("deep map", () =>
        {
            var reader = new CborReader(input);
            reader.SkipValue();
        });
        AssertOnlyCborException("deep map", () => CborValue.Decode(input));
    }

    [Theory]
    [InlineData((byte)0x81, 1)]
    [InlineData((byte)0x81, 2)]
    [InlineData((byte)0x81, CborReader.DefaultMaxDepth)]
    [InlineData((byte)0x9f, CborReader.DefaultMaxDepth)]
    [InlineData((byte)0xc6, CborReader.DefaultMaxDepth)]
    [InlineData((byte)0x81, 500)]
    public void NestingExactlyAtTheLimitIsAccepted(byte container, int maxDepth)
    {
        // maxDepth containers around a leaf are accepted; one more is rejected.
        byte[] atLimit = Nested(container, maxDepth);
        var reader = new CborReader(atLimit, maxDepth);
        reader.SkipValue();
        reader.ExpectEnd();
        CborValue value = CborValue.Decode(atLimit, maxDepth);

        // The decoded tree re-encodes with definite lengths.
        Assert.Equal(Nested(container == 0x9f ? (byte)0x81 : container, maxDepth), value.Encode());

        byte[] beyond = Nested(container, maxDepth + 1);
        AssertOnlyCborException("beyond", () =>
        {
            var r = new CborReader(beyond, maxDepth);
            r.SkipValue();
        });
        Assert.Throws<CborException>(() => CborValue.Decode(beyond, maxDepth));
    }

    [Fact]
    public void DefaultDepthAllows64NestedArrays()
    {
        CborValue value = CborValue.Decode(Nested(0x81, 64));
        for (int i = 0; i < 64; i++)
        {
            value = Assert.Single(value.AsArray());
        }

        Assert.Equal(0, value.AsInt64());
        Assert.Throws<CborException>(() => CborValue.Decode(Nested(0x81, 65)));
    }

    [Fact]
    public void ReadEncodedValueReturnsSlices()
    {
        byte[] bytes = Hex("01" + "820203" + "a16161f5" + "5f4101ff");
        var reader = new CborReader(bytes);
        Assert.Equal("01", Convert.ToHexStringLower(reader.ReadEncodedValue()));
        Assert.Equal("820203", Convert.ToHexStringLower(reader.ReadEncodedValue()));
        Assert.Equal("a16161f5", Convert.ToHexStringLower(reader.ReadEncodedValue()));
        Assert.Equal("5f4101ff", Convert.ToHexStringLower(reader.ReadEncodedValue()));
        reader.ExpectEnd();
    }

    [Fact]
    public void SkipValueDoesNotApplyPayloadSemantics()
    {
        // Well-formed CBOR that CborValue rejects (unsafe integer, bad date, non-text key type) is still skippable.
        foreach (string hex in new[] { "1bffffffffffffffff", "c001", "a18000", "3bffffffffffffffff" })
        {
            var reader = new CborReader(Hex(hex));
            reader.SkipValue();
            reader.ExpectEnd();
            Assert.Throws<CborException>(() => CborValue.Decode(Hex(hex)));
        }
    }

    [Fact]
    public void MessageSequenceCanBeReadFieldByField()
    {
        // A peer message is a sequence of top-level items (WIRE.md §2): tag-less type, count, then items.
        byte[] bytes = Hex("0c" + "50" + "00112233445566778899aabbccddeeff" + "02" + "6161" + "6162" + "fa3fc00000");
        var reader = new CborReader(bytes);
        Assert.Equal(12UL, reader.ReadUInt64());
        Assert.Equal(16, reader.ReadByteString().Length);
        int count = reader.ReadCount();
        var items = new List<string>();
        for (int i = 0; i < count; i++)
        {
            items.Add(reader.ReadTextString());
        }

        Assert.Equal(["a", "b"], items);
        Assert.Equal(1.5, reader.ReadDouble());
        reader.ExpectEnd();
    }

    private static byte[] Nested(byte container, int depth)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < depth; i++)
        {
            bytes.Add(container);
        }

        bytes.Add(0);
        if (container == 0x9f)
        {
            for (int i = 0; i < depth; i++)
            {
                bytes.Add(0xff);
            }
        }

        return [.. bytes];
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    private static void AssertThrows(string hex, ReaderAction action)
    {
        byte[] bytes = Hex(hex);
        AssertOnlyCborException(hex, () =>
        {
            var reader = new CborReader(bytes);
            action(ref reader);
        });
    }

    private static void AssertOnlyCborException(string input, Action action)
    {
        Exception? exception = Record.Exception(action);
        Assert.True(exception is not null, $"Input {input}: no exception was thrown.");
        Assert.True(exception is CborException, $"Input {input}: expected CborException, got {exception}");
    }

    private static void AssertCheapFailure(string hex)
    {
        byte[] bytes = Hex(hex);
        _ = Record.Exception(() => CborValue.Decode(bytes));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exception? exception = Record.Exception(() => CborValue.Decode(bytes));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsType<CborException>(exception);
        Assert.True(allocated < 64 * 1024, $"Decoding {hex} allocated {allocated} bytes.");
    }
}
