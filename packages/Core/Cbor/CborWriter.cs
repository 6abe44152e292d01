using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Ataraxia.Cbor;

/// <summary>
/// Writes CBOR items (RFC 8949) straight into an <see cref="IBufferWriter{T}"/>, with the minimal-width
/// argument encoding that the JavaScript Ataraxia library emits (WIRE.md §2.1).
/// </summary>
/// <remarks>
/// The writer holds no state of its own: it does not check that arrays and maps receive the announced
/// number of items. It allocates nothing beyond what it asks of the output buffer.
/// </remarks>
public readonly struct CborWriter
{
    /// <summary>The largest integer that JavaScript represents exactly (2^53 − 1).</summary>
    public const long MaxSafeInteger = 9007199254740991;

    /// <summary>The smallest integer that JavaScript represents exactly (−(2^53 − 1)).</summary>
    public const long MinSafeInteger = -9007199254740991;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly IBufferWriter<byte> _output;

    /// <summary>Creates a writer that appends to <paramref name="output"/>.</summary>
    /// <param name="output">The buffer that receives the encoded bytes.</param>
    public CborWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Gets the number of bytes a head with the given argument occupies (1, 2, 3, 5 or 9).</summary>
    /// <param name="argument">The argument of the head (value, length or count).</param>
    /// <returns>The encoded size of the head in bytes.</returns>
    public static int GetHeadLength(ulong argument) => argument switch
    {
        < 24 => 1,
        <= byte.MaxValue => 2,
        <= ushort.MaxValue => 3,
        <= uint.MaxValue => 5,
        _ => 9,
    };

    /// <summary>Gets the encoded size of a byte string of the given length.</summary>
    /// <param name="length">The number of content bytes.</param>
    /// <returns>Head plus content size in bytes.</returns>
    public static int GetByteStringLength(int length) => GetHeadLength((ulong)length) + length;

    /// <summary>Gets the encoded size of a text string.</summary>
    /// <param name="value">The text.</param>
    /// <returns>Head plus UTF-8 content size in bytes.</returns>
    /// <exception cref="CborException">The text is not valid UTF-16 (a lone surrogate).</exception>
    public static int GetTextStringLength(ReadOnlySpan<char> value)
    {
        int length = GetUtf8Length(value);
        return GetHeadLength((ulong)length) + length;
    }

    /// <summary>Writes a head: major type plus minimal-width argument.</summary>
    /// <param name="majorType">The major type.</param>
    /// <param name="argument">The argument (value, length, count or tag number).</param>
    public void WriteHead(CborMajorType majorType, ulong argument)
    {
        Span<byte> span = _output.GetSpan(9);
        int written = WriteHead(span, majorType, argument);
        _output.Advance(written);
    }

    /// <summary>Writes a head into a span; returns the number of bytes written.</summary>
    /// <param name="destination">At least <see cref="GetHeadLength"/> bytes.</param>
    /// <param name="majorType">The major type.</param>
    /// <param name="argument">The argument.</param>
    /// <returns>The number of bytes written.</returns>
    public static int WriteHead(Span<byte> destination, CborMajorType majorType, ulong argument)
    {
        byte major = (byte)((byte)majorType << 5);
        switch (argument)
        {
            case < 24:
                destination[0] = (byte)(major | (byte)argument);
                return 1;
            case <= byte.MaxValue:
                destination[1] = (byte)argument;
                destination[0] = (byte)(major | 24);
                return 2;
            case <= ushort.MaxValue:
                BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(1, 2), (ushort)argument);
                destination[0] = (byte)(major | 25);
                return 3;
            case <= uint.MaxValue:
                BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(1, 4), (uint)argument);
                destination[0] = (byte)(major | 26);
                return 5;
            default:
                BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(1, 8), argument);
                destination[0] = (byte)(major | 27);
                return 9;
        }
    }

    /// <summary>Writes an unsigned integer (major type 0).</summary>
    /// <param name="value">The value.</param>
    public void WriteUInt64(ulong value) => WriteHead(CborMajorType.UnsignedInteger, value);

    /// <summary>Writes a signed integer as major type 0 or 1.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt64(long value)
    {
        if (value >= 0)
        {
            WriteHead(CborMajorType.UnsignedInteger, (ulong)value);
        }
        else
        {
            WriteHead(CborMajorType.NegativeInteger, (ulong)(-1 - value));
        }
    }

    /// <summary>Writes a byte string (major type 2).</summary>
    /// <param name="value">The content.</param>
    public void WriteByteString(ReadOnlySpan<byte> value)
    {
        WriteHead(CborMajorType.ByteString, (ulong)value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes a text string (major type 3) from UTF-16 text.</summary>
    /// <param name="value">The text.</param>
    /// <exception cref="CborException">The text contains a lone surrogate.</exception>
    public void WriteTextString(ReadOnlySpan<char> value)
    {
        int length = GetUtf8Length(value);
        WriteHead(CborMajorType.TextString, (ulong)length);
        if (length == 0)
        {
            return;
        }

        Span<byte> span = _output.GetSpan(length);
        int written = StrictUtf8.GetBytes(value, span);
        _output.Advance(written);
    }

    /// <summary>Writes a text string (major type 3) whose UTF-8 bytes are already at hand.</summary>
    /// <param name="utf8">Valid UTF-8 bytes; they are not checked.</param>
    public void WriteUtf8String(ReadOnlySpan<byte> utf8)
    {
        WriteHead(CborMajorType.TextString, (ulong)utf8.Length);
        WriteRaw(utf8);
    }

    /// <summary>Writes the head of a definite-length array.</summary>
    /// <param name="count">The number of items that follow.</param>
    public void WriteStartArray(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteHead(CborMajorType.Array, (ulong)count);
    }

    /// <summary>Writes the head of a definite-length map.</summary>
    /// <param name="count">The number of key/value pairs that follow.</param>
    public void WriteStartMap(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteHead(CborMajorType.Map, (ulong)count);
    }

    /// <summary>Writes a tag head (major type 6); the tagged item follows.</summary>
    /// <param name="tag">The tag number.</param>
    public void WriteTag(ulong tag) => WriteHead(CborMajorType.Tag, tag);

    /// <summary>Writes <c>false</c> (<c>f4</c>) or <c>true</c> (<c>f5</c>).</summary>
    /// <param name="value">The value.</param>
    public void WriteBoolean(bool value) => WriteByte(value ? (byte)0xf5 : (byte)0xf4);

    /// <summary>Writes <c>null</c> (<c>f6</c>).</summary>
    public void WriteNull() => WriteByte(0xf6);

    /// <summary>Writes <c>undefined</c> (<c>f7</c>).</summary>
    public void WriteUndefined() => WriteByte(0xf7);

    /// <summary>Writes a simple value (major type 7, values 0–19 and 32–255).</summary>
    /// <param name="value">The simple value.</param>
    public void WriteSimpleValue(byte value)
    {
        if (value is >= 24 and < 32)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Simple values 24-31 are reserved.");
        }

        WriteHead(CborMajorType.SimpleOrFloat, value);
    }

    /// <summary>
    /// Writes a number the way JavaScript's encoder does: safe integers (|v| ≤ 2^53 − 1, and +0) as integers;
    /// −0, NaN and ±∞ as half floats; other values as single precision when that is exact, else double.
    /// </summary>
    /// <param name="value">The number.</param>
    public void WriteNumber(double value)
    {
        if (double.IsNaN(value))
        {
            WriteHalfBits(0x7e00);
        }
        else if (double.IsPositiveInfinity(value))
        {
            WriteHalfBits(0x7c00);
        }
        else if (double.IsNegativeInfinity(value))
        {
            WriteHalfBits(0xfc00);
        }
        else if (value == 0 && double.IsNegative(value))
        {
            WriteHalfBits(0x8000);
        }
        else if (Math.Floor(value) == value && value >= MinSafeInteger && value <= MaxSafeInteger)
        {
            WriteInt64((long)value);
        }
        else if ((double)(float)value == value)
        {
            WriteSingle((float)value);
        }
        else
        {
            WriteDouble(value);
        }
    }

    /// <summary>Writes a single-precision float (<c>fa</c>).</summary>
    /// <param name="value">The value.</param>
    public void WriteSingle(float value)
    {
        Span<byte> span = _output.GetSpan(5);
        span[0] = 0xfa;
        BinaryPrimitives.WriteSingleBigEndian(span.Slice(1, 4), value);
        _output.Advance(5);
    }

    /// <summary>Writes a double-precision float (<c>fb</c>).</summary>
    /// <param name="value">The value.</param>
    public void WriteDouble(double value)
    {
        Span<byte> span = _output.GetSpan(9);
        span[0] = 0xfb;
        BinaryPrimitives.WriteDoubleBigEndian(span.Slice(1, 8), value);
        _output.Advance(9);
    }

    /// <summary>Writes already-encoded bytes unchanged.</summary>
    /// <param name="encoded">The bytes.</param>
    public void WriteRaw(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty)
        {
            return;
        }

        Span<byte> span = _output.GetSpan(encoded.Length);
        encoded.CopyTo(span);
        _output.Advance(encoded.Length);
    }

    private void WriteHalfBits(ushort bits)
    {
        Span<byte> span = _output.GetSpan(3);
        span[0] = 0xf9;
        BinaryPrimitives.WriteUInt16BigEndian(span.Slice(1, 2), bits);
        _output.Advance(3);
    }

    private void WriteByte(byte value)
    {
        Span<byte> span = _output.GetSpan(1);
        span[0] = value;
        _output.Advance(1);
    }

    private static int GetUtf8Length(ReadOnlySpan<char> value)
    {
        try
        {
            return StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException ex)
        {
            throw new CborException("Text contains a lone surrogate and cannot be encoded as UTF-8.", ex);
        }
    }
}
