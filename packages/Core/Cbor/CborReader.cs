using System.Buffers.Binary;
using System.Text;

namespace Ataraxia.Cbor;

/// <summary>
/// A strict, bounded reader of CBOR items (RFC 8949) over a span of bytes.
/// </summary>
/// <remarks>
/// <para>
/// Every length is checked against the bytes that remain before anything is allocated or sliced, so an
/// attacker's length field can never size an allocation: a byte or text string is at most as large as the
/// input, and an array or map announces no more items than there are bytes left. Malformed input, unsupported
/// features and exceeded limits raise <see cref="CborException"/>; no other exception escapes for any input.
/// </para>
/// <para>
/// The reader accepts any argument width (minimal or not), indefinite-length strings, arrays and maps, and
/// half, single and double floats, like the JavaScript decoder.
/// </para>
/// </remarks>
public ref struct CborReader
{
    /// <summary>The default limit on nesting of arrays, maps and tags.</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>The largest nesting limit a reader accepts; deeper recursion would risk the stack.</summary>
    public const int MaxAllowedDepth = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    /// <summary>Creates a reader over <paramref name="data"/>.</summary>
    /// <param name="data">The encoded bytes.</param>
    /// <param name="maxDepth">The nesting limit used by <see cref="SkipValue()"/> and value decoding.</param>
    public CborReader(ReadOnlySpan<byte> data, int maxDepth = DefaultMaxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDepth);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDepth, MaxAllowedDepth);
        _data = data;
        _position = 0;
        MaxDepth = maxDepth;
    }

    /// <summary>Gets the nesting limit for arrays, maps and tags.</summary>
    public int MaxDepth { get; }

    /// <summary>Gets the offset of the next unread byte.</summary>
    public readonly int Position => _position;

    /// <summary>Gets the number of unread bytes.</summary>
    public readonly int BytesRemaining => _data.Length - _position;

    /// <summary>Gets a value indicating whether all input has been read.</summary>
    public readonly bool IsAtEnd => _position >= _data.Length;

    /// <summary>Gets the unread bytes.</summary>
    public readonly ReadOnlySpan<byte> Remaining => _data[_position..];

    /// <summary>Gets the major type of the next item without consuming it.</summary>
    /// <returns>The major type.</returns>
    /// <exception cref="CborException">No input remains.</exception>
    public readonly CborMajorType PeekMajorType() => (CborMajorType)(PeekInitialByte() >> 5);

    /// <summary>Gets the initial byte of the next item without consuming it.</summary>
    /// <returns>The initial byte.</returns>
    /// <exception cref="CborException">No input remains.</exception>
    public readonly byte PeekInitialByte()
    {
        if (_position >= _data.Length)
        {
            throw Truncated();
        }

        return _data[_position];
    }

    /// <summary>Gets a value indicating whether the next byte is the break code <c>ff</c>.</summary>
    /// <returns><see langword="true"/> when the next byte is a break.</returns>
    public readonly bool PeekIsBreak() => _position < _data.Length && _data[_position] == 0xff;

    /// <summary>Consumes a break code (<c>ff</c>) that ends an indefinite-length item.</summary>
    /// <exception cref="CborException">The next byte is not a break.</exception>
    public void ReadBreak()
    {
        if (PeekInitialByte() != 0xff)
        {
            throw new CborException($"Expected a break code at offset {_position}.");
        }

        _position++;
    }

    /// <summary>Reads an unsigned integer (major type 0).</summary>
    /// <returns>The value.</returns>
    /// <exception cref="CborException">The next item is not an unsigned integer, or the input ends.</exception>
    public ulong ReadUInt64()
    {
        int start = _position;
        ulong value = ReadHead(out CborMajorType major, out bool indefinite);
        if (major != CborMajorType.UnsignedInteger || indefinite)
        {
            throw UnexpectedType(start, "an unsigned integer", major);
        }

        return value;
    }

    /// <summary>Reads an unsigned integer that must fit in a 32-bit signed count.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="CborException">Not an unsigned integer, or larger than <see cref="int.MaxValue"/>.</exception>
    public int ReadCount()
    {
        int start = _position;
        ulong value = ReadUInt64();
        if (value > int.MaxValue)
        {
            throw new CborException($"Count {value} at offset {start} is too large.");
        }

        return (int)value;
    }

    /// <summary>Reads the raw argument of an integer of major type 0 or 1.</summary>
    /// <param name="negative">Set when the integer is negative, i.e. its value is <c>-1 - argument</c>.</param>
    /// <returns>The argument.</returns>
    /// <exception cref="CborException">Not an integer.</exception>
    public ulong ReadIntegerArgument(out bool negative)
    {
        int start = _position;
        ulong argument = ReadHead(out CborMajorType major, out bool indefinite);
        if (indefinite || major is not (CborMajorType.UnsignedInteger or CborMajorType.NegativeInteger))
        {
            throw UnexpectedType(start, "an integer", major);
        }

        negative = major == CborMajorType.NegativeInteger;
        return argument;
    }

    /// <summary>Reads an integer of major type 0 or 1 as a signed 64-bit value.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="CborException">Not an integer, or outside the range of <see cref="long"/>.</exception>
    public long ReadInt64()
    {
        int start = _position;
        ulong argument = ReadHead(out CborMajorType major, out bool indefinite);
        if (indefinite || major is not (CborMajorType.UnsignedInteger or CborMajorType.NegativeInteger))
        {
            throw UnexpectedType(start, "an integer", major);
        }

        if (argument > long.MaxValue)
        {
            throw new CborException($"Integer at offset {start} does not fit in 64 bits.");
        }

        return major == CborMajorType.UnsignedInteger ? (long)argument : -1 - (long)argument;
    }

    /// <summary>
    /// Reads a byte string. A definite-length string is returned as a slice of the input; an indefinite-length
    /// one is concatenated into a new array (never larger than the input).
    /// </summary>
    /// <returns>The content bytes.</returns>
    /// <exception cref="CborException">Not a byte string, or malformed.</exception>
    public ReadOnlySpan<byte> ReadByteString() => ReadString(CborMajorType.ByteString);

    /// <summary>Reads a UTF-8 text string and validates it.</summary>
    /// <returns>The text.</returns>
    /// <exception cref="CborException">Not a text string, malformed, or invalid UTF-8.</exception>
    public string ReadTextString()
    {
        int start = _position;
        ReadOnlySpan<byte> utf8 = ReadString(CborMajorType.TextString);
        try
        {
            return StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException ex)
        {
            throw new CborException($"Text string at offset {start} is not valid UTF-8.", ex);
        }
    }

    /// <summary>Reads the UTF-8 bytes of a text string after validating them, without creating a string.</summary>
    /// <returns>The UTF-8 content.</returns>
    /// <exception cref="CborException">Not a text string, malformed, or invalid UTF-8.</exception>
    public ReadOnlySpan<byte> ReadUtf8String()
    {
        int start = _position;
        ReadOnlySpan<byte> utf8 = ReadString(CborMajorType.TextString);
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            throw new CborException($"Text string at offset {start} is not valid UTF-8.");
        }

        return utf8;
    }

    /// <summary>Reads the head of an array.</summary>
    /// <returns>The number of items, or <see langword="null"/> for an indefinite-length array (ended by a break).</returns>
    /// <exception cref="CborException">Not an array, or it announces more items than bytes remain.</exception>
    public int? ReadStartArray() => ReadContainerHead(CborMajorType.Array, 1);

    /// <summary>Reads the head of a map.</summary>
    /// <returns>The number of pairs, or <see langword="null"/> for an indefinite-length map (ended by a break).</returns>
    /// <exception cref="CborException">Not a map, or it announces more pairs than bytes remain.</exception>
    public int? ReadStartMap() => ReadContainerHead(CborMajorType.Map, 2);

    /// <summary>Reads a tag number; the tagged item follows.</summary>
    /// <returns>The tag number.</returns>
    /// <exception cref="CborException">The next item is not a tag.</exception>
    public ulong ReadTag()
    {
        int start = _position;
        ulong tag = ReadHead(out CborMajorType major, out bool indefinite);
        if (major != CborMajorType.Tag || indefinite)
        {
            throw UnexpectedType(start, "a tag", major);
        }

        return tag;
    }

    /// <summary>Reads <c>false</c> or <c>true</c>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="CborException">The next item is not a boolean.</exception>
    public bool ReadBoolean()
    {
        byte initial = PeekInitialByte();
        if (initial is not (0xf4 or 0xf5))
        {
            throw new CborException($"Expected a boolean at offset {_position}.");
        }

        _position++;
        return initial == 0xf5;
    }

    /// <summary>Reads a simple value (including false, true, null and undefined as 20–23).</summary>
    /// <returns>The simple value number.</returns>
    /// <exception cref="CborException">The next item is not a simple value.</exception>
    public byte ReadSimpleValue()
    {
        int start = _position;
        byte initial = PeekInitialByte();
        if (initial >> 5 != 7)
        {
            throw UnexpectedType(start, "a simple value", (CborMajorType)(initial >> 5));
        }

        int info = initial & 0x1f;
        if (info < 24)
        {
            _position++;
            return (byte)info;
        }

        if (info == 24)
        {
            if (BytesRemaining < 2)
            {
                throw Truncated();
            }

            byte value = _data[_position + 1];
            if (value < 32)
            {
                throw new CborException($"Simple value {value} at offset {start} uses a two-byte encoding it may not use.");
            }

            _position += 2;
            return value;
        }

        throw new CborException($"Expected a simple value at offset {start}.");
    }

    /// <summary>Reads a half, single or double precision float.</summary>
    /// <returns>The value as a double.</returns>
    /// <exception cref="CborException">The next item is not a float.</exception>
    public double ReadDouble()
    {
        int start = _position;
        byte initial = PeekInitialByte();
        int size = initial switch
        {
            0xf9 => 2,
            0xfa => 4,
            0xfb => 8,
            _ => throw new CborException($"Expected a float at offset {start}."),
        };
        if (BytesRemaining < 1 + size)
        {
            throw Truncated();
        }

        ReadOnlySpan<byte> bytes = _data.Slice(_position + 1, size);
        _position += 1 + size;
        return size switch
        {
            2 => (double)BinaryPrimitives.ReadHalfBigEndian(bytes),
            4 => BinaryPrimitives.ReadSingleBigEndian(bytes),
            _ => BinaryPrimitives.ReadDoubleBigEndian(bytes),
        };
    }

    /// <summary>Skips one complete item, including everything nested in it.</summary>
    /// <exception cref="CborException">The item is malformed or nests deeper than <see cref="MaxDepth"/>.</exception>
    public void SkipValue() => SkipValue(0);

    /// <summary>Reads one complete item and returns its encoded bytes.</summary>
    /// <returns>A slice of the input holding exactly one item.</returns>
    /// <exception cref="CborException">The item is malformed or nests too deeply.</exception>
    public ReadOnlySpan<byte> ReadEncodedValue()
    {
        int start = _position;
        SkipValue(0);
        return _data[start.._position];
    }

    /// <summary>Throws unless all input has been consumed.</summary>
    /// <exception cref="CborException">Bytes remain after the last item.</exception>
    public readonly void ExpectEnd()
    {
        if (!IsAtEnd)
        {
            throw new CborException($"Unexpected {BytesRemaining} trailing byte(s) at offset {_position}.");
        }
    }

    private void SkipValue(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new CborException($"Nesting deeper than {MaxDepth} at offset {_position}.");
        }

        CborMajorType major = PeekMajorType();
        switch (major)
        {
            case CborMajorType.UnsignedInteger:
            case CborMajorType.NegativeInteger:
                _ = ReadHead(out _, out bool indefiniteInt);
                if (indefiniteInt)
                {
                    throw new CborException($"Integer with indefinite length at offset {_position - 1}.");
                }

                break;
            case CborMajorType.ByteString:
            case CborMajorType.TextString:
                _ = ReadString(major);
                break;
            case CborMajorType.Array:
            case CborMajorType.Map:
                int? count = major == CborMajorType.Array ? ReadStartArray() : ReadStartMap();
                int items = major == CborMajorType.Map ? 2 : 1;
                if (count is int n)
                {
                    for (long i = 0; i < (long)n * items; i++)
                    {
                        SkipValue(depth + 1);
                    }
                }
                else
                {
                    while (!PeekIsBreak())
                    {
                        for (int i = 0; i < items; i++)
                        {
                            SkipValue(depth + 1);
                        }
                    }

                    ReadBreak();
                }

                break;
            case CborMajorType.Tag:
                _ = ReadTag();
                SkipValue(depth + 1);
                break;
            default:
                SkipSimpleOrFloat();
                break;
        }
    }

    private void SkipSimpleOrFloat()
    {
        byte initial = PeekInitialByte();
        switch (initial)
        {
            case 0xf9 or 0xfa or 0xfb:
                _ = ReadDouble();
                break;
            case 0xff:
                throw new CborException($"Unexpected break code at offset {_position}.");
            default:
                _ = ReadSimpleValue();
                break;
        }
    }

    private int? ReadContainerHead(CborMajorType expected, int minimumBytesPerEntry)
    {
        int start = _position;
        ulong count = ReadHead(out CborMajorType major, out bool indefinite);
        if (major != expected)
        {
            throw UnexpectedType(start, expected == CborMajorType.Array ? "an array" : "a map", major);
        }

        if (indefinite)
        {
            return null;
        }

        // Every entry takes at least one byte per item, so a count larger than that is a lie we refuse before
        // the caller sizes anything by it.
        if (count > (ulong)BytesRemaining / (ulong)minimumBytesPerEntry)
        {
            throw new CborException($"{(expected == CborMajorType.Array ? "Array" : "Map")} at offset {start} announces {count} entries but only {BytesRemaining} bytes remain.");
        }

        return (int)count;
    }

    private ReadOnlySpan<byte> ReadString(CborMajorType expected)
    {
        int start = _position;
        ulong length = ReadHead(out CborMajorType major, out bool indefinite);
        if (major != expected)
        {
            throw UnexpectedType(start, expected == CborMajorType.ByteString ? "a byte string" : "a text string", major);
        }

        if (!indefinite)
        {
            return TakeBytes(length, start);
        }

        // Indefinite length: chunks of the same major type, definite each, ended by a break. The result is never
        // larger than the input, so the allocation is bounded by what the peer actually sent.
        int chunksStart = _position;
        int total = 0;
        while (!PeekIsBreak())
        {
            int chunkStart = _position;
            ulong chunkLength = ReadHead(out CborMajorType chunkMajor, out bool chunkIndefinite);
            if (chunkMajor != expected || chunkIndefinite)
            {
                throw new CborException($"Invalid chunk at offset {chunkStart} inside an indefinite-length string.");
            }

            total += TakeBytes(chunkLength, chunkStart).Length;
        }

        ReadBreak();
        if (total == 0)
        {
            return [];
        }

        var result = new byte[total];
        var chunkReader = new CborReader(_data[chunksStart.._position], MaxDepth);
        int offset = 0;
        while (!chunkReader.PeekIsBreak())
        {
            ulong chunkLength = chunkReader.ReadHead(out _, out _);
            ReadOnlySpan<byte> chunk = chunkReader.TakeBytes(chunkLength, chunkReader._position);
            chunk.CopyTo(result.AsSpan(offset));
            offset += chunk.Length;
        }

        return result;
    }

    private ReadOnlySpan<byte> TakeBytes(ulong length, int itemStart)
    {
        if (length > (ulong)BytesRemaining)
        {
            throw new CborException($"String at offset {itemStart} has length {length} but only {BytesRemaining} bytes remain.");
        }

        ReadOnlySpan<byte> slice = _data.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    private ulong ReadHead(out CborMajorType major, out bool indefinite)
    {
        if (_position >= _data.Length)
        {
            throw Truncated();
        }

        int start = _position;
        byte initial = _data[_position];
        major = (CborMajorType)(initial >> 5);
        int info = initial & 0x1f;
        indefinite = false;
        if (info < 24)
        {
            _position++;
            return (ulong)info;
        }

        int size;
        switch (info)
        {
            case 24: size = 1; break;
            case 25: size = 2; break;
            case 26: size = 4; break;
            case 27: size = 8; break;
            case 31 when major is CborMajorType.ByteString or CborMajorType.TextString or CborMajorType.Array or CborMajorType.Map:
                _position++;
                indefinite = true;
                return 0;
            default:
                throw new CborException($"Reserved or invalid additional information {info} at offset {start}.");
        }

        if (_data.Length - _position < 1 + size)
        {
            throw Truncated();
        }

        ReadOnlySpan<byte> bytes = _data.Slice(_position + 1, size);
        _position += 1 + size;
        return size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(bytes),
            4 => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            _ => BinaryPrimitives.ReadUInt64BigEndian(bytes),
        };
    }

    private readonly CborException Truncated() => new($"Unexpected end of input at offset {_position}.");

    private static CborException UnexpectedType(int offset, string expected, CborMajorType actual) =>
        new($"Expected {expected} at offset {offset} but found major type {(int)actual} ({actual}).");
}
