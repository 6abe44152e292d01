using System.Buffers;
using System.Globalization;

namespace Ataraxia.Cbor;

/// <summary>The kind of a <see cref="CborValue"/>.</summary>
#pragma warning disable CA1720 // The kinds are named after the JavaScript/CBOR data model.
public enum CborValueKind
{
    /// <summary>JavaScript <c>undefined</c> (<c>f7</c>).</summary>
    Undefined,

    /// <summary><c>null</c> (<c>f6</c>).</summary>
    Null,

    /// <summary><c>false</c> or <c>true</c>.</summary>
    Boolean,

    /// <summary>An integer within the JavaScript safe range.</summary>
    Integer,

    /// <summary>A floating point number.</summary>
    Float,

    /// <summary>A text string.</summary>
    Text,

    /// <summary>A byte string.</summary>
    Bytes,

    /// <summary>An array of values.</summary>
    Array,

    /// <summary>A map with text keys.</summary>
    Map,

    /// <summary>A date (tag 0 or tag 1).</summary>
    Date,

    /// <summary>A tagged item with a tag other than 0 or 1.</summary>
    Tagged,

    /// <summary>An unassigned simple value.</summary>
    Simple,
}
#pragma warning restore CA1720

/// <summary>
/// A CBOR value with the semantics of a JavaScript value, used for application payloads
/// (WIRE.md §2 and §7.3).
/// </summary>
/// <remarks>
/// <para>
/// Encoding follows what the JavaScript encoder emits, so a value built here produces the same bytes as the
/// equal JavaScript value: integers use the minimal width, non-integral numbers use single precision when that
/// is exact, map keys are text in JavaScript property order (integer-like keys ascending, then insertion order).
/// </para>
/// <para>
/// Decoding follows what the JavaScript decoder accepts: any argument width, indefinite lengths, half floats,
/// map keys converted to strings, tags 0 and 1 as dates. It is strict: exactly one item, integers beyond
/// ±(2^53 − 1) rejected, nesting bounded. Integers and floats with the same numeric value compare equal,
/// as JavaScript numbers do.
/// </para>
/// </remarks>
public abstract partial class CborValue : IEquatable<CborValue>
{
    private protected CborValue()
    {
    }

    /// <summary>Gets the JavaScript <c>undefined</c> value.</summary>
    public static CborValue Undefined { get; } = new CborConstant(CborValueKind.Undefined);

    /// <summary>Gets the <c>null</c> value.</summary>
    public static CborValue Null { get; } = new CborConstant(CborValueKind.Null);

    /// <summary>Gets the <c>true</c> value.</summary>
    public static CborValue True { get; } = new CborConstant(CborValueKind.Boolean, true);

    /// <summary>Gets the <c>false</c> value.</summary>
    public static CborValue False { get; } = new CborConstant(CborValueKind.Boolean, false);

    /// <summary>Gets the kind of this value.</summary>
    public abstract CborValueKind Kind { get; }

    /// <summary>Gets a value indicating whether this is <c>null</c> or <c>undefined</c>.</summary>
    public bool IsNullOrUndefined => Kind is CborValueKind.Null or CborValueKind.Undefined;

    /// <summary>Converts a boolean.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator CborValue(bool value) => value ? True : False;

    /// <summary>Converts an integer.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator CborValue(int value) => new CborInteger(value);

    /// <summary>Converts an integer; it must lie within ±(2^53 − 1).</summary>
    /// <param name="value">The value.</param>
    public static implicit operator CborValue(long value) => new CborInteger(value);

    /// <summary>Converts a number.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator CborValue(double value) => new CborFloat(value);

    /// <summary>Converts text; <see langword="null"/> becomes <see cref="Null"/>.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator CborValue(string? value) => value is null ? Null : new CborText(value);

    /// <summary>Converts bytes (copied); <see langword="null"/> becomes <see cref="Null"/>.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator CborValue(byte[]? value) => value is null ? Null : new CborBytes(value);

    /// <summary>Converts a date.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator CborValue(DateTimeOffset value) => new CborDate(value);

    /// <summary>Creates a boolean value.</summary>
    /// <param name="value">The value.</param>
    /// <returns><see cref="True"/> or <see cref="False"/>.</returns>
    public static CborValue FromBoolean(bool value) => value;

    /// <summary>Creates an integer value.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The value.</returns>
    public static CborValue FromInt64(long value) => value;

    /// <summary>Creates a number value.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The value.</returns>
    public static CborValue FromDouble(double value) => value;

    /// <summary>Creates a text value.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The value.</returns>
    public static CborValue FromString(string? value) => value;

    /// <summary>Creates a byte string value.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The value.</returns>
    public static CborValue FromBytes(byte[]? value) => value;

    /// <summary>Creates a date value.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The value.</returns>
    public static CborValue FromDateTimeOffset(DateTimeOffset value) => value;

    /// <summary>Gets the boolean of a <see cref="CborValueKind.Boolean"/> value.</summary>
    /// <returns>The boolean.</returns>
    /// <exception cref="InvalidOperationException">This is not a boolean.</exception>
    public bool AsBoolean() => this is CborConstant { Kind: CborValueKind.Boolean } c ? c.BooleanValue : throw WrongKind("a boolean");

    /// <summary>Gets the value of an integer, or of a float that holds an integral value in range.</summary>
    /// <returns>The integer.</returns>
    /// <exception cref="InvalidOperationException">This is not an integral number.</exception>
    public long AsInt64() => this switch
    {
        CborInteger i => i.Value,
        CborFloat f when Math.Floor(f.Value) == f.Value && Math.Abs(f.Value) <= CborWriter.MaxSafeInteger => (long)f.Value,
        _ => throw WrongKind("an integer"),
    };

    /// <summary>Gets the numeric value of an integer or float.</summary>
    /// <returns>The number.</returns>
    /// <exception cref="InvalidOperationException">This is not a number.</exception>
    public double AsDouble() => this switch
    {
        CborInteger i => i.Value,
        CborFloat f => f.Value,
        _ => throw WrongKind("a number"),
    };

    /// <summary>Gets the text of a text value.</summary>
    /// <returns>The text.</returns>
    /// <exception cref="InvalidOperationException">This is not text.</exception>
    public string AsString() => this is CborText t ? t.Value : throw WrongKind("text");

    /// <summary>Gets the content of a byte string value.</summary>
    /// <returns>The bytes.</returns>
    /// <exception cref="InvalidOperationException">This is not a byte string.</exception>
    public ReadOnlyMemory<byte> AsBytes() => this is CborBytes b ? b.Value : throw WrongKind("a byte string");

    /// <summary>Gets this value as an array.</summary>
    /// <returns>The array.</returns>
    /// <exception cref="InvalidOperationException">This is not an array.</exception>
    public CborArray AsArray() => this as CborArray ?? throw WrongKind("an array");

    /// <summary>Gets this value as a map.</summary>
    /// <returns>The map.</returns>
    /// <exception cref="InvalidOperationException">This is not a map.</exception>
    public CborMap AsMap() => this as CborMap ?? throw WrongKind("a map");

    /// <summary>Gets the instant of a date value.</summary>
    /// <returns>The date.</returns>
    /// <exception cref="InvalidOperationException">This is not a date.</exception>
    public DateTimeOffset AsDateTimeOffset() => this is CborDate d ? d.Value : throw WrongKind("a date");

    /// <summary>Writes this value as one CBOR item.</summary>
    /// <param name="writer">The destination.</param>
    public abstract void WriteTo(CborWriter writer);

    /// <summary>Encodes this value as one CBOR item into a new array.</summary>
    /// <returns>The encoded bytes.</returns>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteTo(new CborWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes exactly one CBOR item; trailing bytes are an error.</summary>
    /// <param name="encoded">The encoded item.</param>
    /// <param name="maxDepth">The nesting limit.</param>
    /// <returns>The value.</returns>
    /// <exception cref="CborException">The input is empty, malformed, nests too deeply or has trailing bytes.</exception>
    public static CborValue Decode(ReadOnlySpan<byte> encoded, int maxDepth = CborReader.DefaultMaxDepth)
    {
        var reader = new CborReader(encoded, maxDepth);
        CborValue value = Read(ref reader);
        if (!reader.IsAtEnd)
        {
            throw new CborException($"Extra data after the value: {reader.BytesRemaining} byte(s) at offset {reader.Position}.");
        }

        return value;
    }

    /// <summary>Reads one CBOR item from a reader.</summary>
    /// <param name="reader">The reader, positioned at the item.</param>
    /// <returns>The value.</returns>
    /// <exception cref="CborException">The item is malformed or nests too deeply.</exception>
    public static CborValue Read(ref CborReader reader) => Read(ref reader, 0);

    /// <inheritdoc />
    public abstract bool Equals(CborValue? other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is CborValue other && Equals(other);

    /// <inheritdoc />
    public abstract override int GetHashCode();

    private static CborValue Read(ref CborReader reader, int depth)
    {
        if (depth > reader.MaxDepth)
        {
            throw new CborException($"Nesting deeper than {reader.MaxDepth} at offset {reader.Position}.");
        }

        int start = reader.Position;
        switch (reader.PeekMajorType())
        {
            case CborMajorType.UnsignedInteger:
            {
                ulong value = reader.ReadUInt64();
                if (value > CborWriter.MaxSafeInteger)
                {
                    throw new CborException($"Integer at offset {start} is larger than 2^53-1.");
                }

                return new CborInteger((long)value);
            }

            case CborMajorType.NegativeInteger:
            {
                ulong argument = reader.ReadIntegerArgument(out _);
                if (argument > CborWriter.MaxSafeInteger)
                {
                    throw new CborException($"Integer at offset {start} is smaller than -2^53.");
                }

                // -1 - (2^53 - 1) = -2^53 is a valid JavaScript number but not a safe integer.
                return argument == CborWriter.MaxSafeInteger ? new CborFloat(-9007199254740992.0) : new CborInteger(-1 - (long)argument);
            }

            case CborMajorType.ByteString:
                return new CborBytes(reader.ReadByteString().ToArray());
            case CborMajorType.TextString:
                return new CborText(reader.ReadTextString());
            case CborMajorType.Array:
            {
                int? count = reader.ReadStartArray();
                // Never pre-size by the announced count alone: nested containers would multiply it (a 64 KiB input
                // announcing 64 KiB at every level). Growth follows the items actually read.
                var items = new List<CborValue>(Math.Min(count ?? 4, 16));
                if (count is int n)
                {
                    for (int i = 0; i < n; i++)
                    {
                        items.Add(Read(ref reader, depth + 1));
                    }
                }
                else
                {
                    while (!reader.PeekIsBreak())
                    {
                        items.Add(Read(ref reader, depth + 1));
                    }

                    reader.ReadBreak();
                }

                return new CborArray(items, copy: false);
            }

            case CborMajorType.Map:
            {
                int? count = reader.ReadStartMap();
                var map = new CborMap();
                if (count is int n)
                {
                    for (int i = 0; i < n; i++)
                    {
                        string key = ToPropertyName(Read(ref reader, depth + 1), start);
                        map[key] = Read(ref reader, depth + 1);
                    }
                }
                else
                {
                    while (!reader.PeekIsBreak())
                    {
                        string key = ToPropertyName(Read(ref reader, depth + 1), start);
                        map[key] = Read(ref reader, depth + 1);
                    }

                    reader.ReadBreak();
                }

                return map;
            }

            case CborMajorType.Tag:
            {
                ulong tag = reader.ReadTag();
                CborValue content = Read(ref reader, depth + 1);
                return tag switch
                {
                    0 when content is CborText text && TryParseDate(text.Value, out DateTimeOffset date) => new CborDate(date),
                    0 => throw new CborException($"Tag 0 at offset {start} does not hold a valid date string."),
                    1 when content.Kind is CborValueKind.Integer or CborValueKind.Float && TryFromEpochSeconds(content.AsDouble(), out DateTimeOffset date) => new CborDate(date),
                    1 => throw new CborException($"Tag 1 at offset {start} does not hold a valid epoch time."),
                    _ => new CborTagged(tag, content),
                };
            }

            default:
                byte initial = reader.PeekInitialByte();
                switch (initial)
                {
                    case 0xf4: reader.ReadSimpleValue(); return False;
                    case 0xf5: reader.ReadSimpleValue(); return True;
                    case 0xf6: reader.ReadSimpleValue(); return Null;
                    case 0xf7: reader.ReadSimpleValue(); return Undefined;
                    case 0xf9 or 0xfa or 0xfb: return new CborFloat(reader.ReadDouble());
                    case 0xff: throw new CborException($"Unexpected break code at offset {start}.");
                    default: return new CborSimple(reader.ReadSimpleValue());
                }
        }
    }

    // A JavaScript object turns every key into a property name string (WIRE.md §2.2).
    private static string ToPropertyName(CborValue key, int mapOffset) => key switch
    {
        CborText t => t.Value,
        CborInteger i => i.Value.ToString(CultureInfo.InvariantCulture),
        CborFloat f => CborFloat.ToJavaScriptString(f.Value),
        CborBytes b => string.Join(',', b.Value.ToArray()),
        CborConstant { Kind: CborValueKind.Boolean } c => c.BooleanValue ? "true" : "false",
        CborConstant { Kind: CborValueKind.Null } => "null",
        CborConstant { Kind: CborValueKind.Undefined } => "undefined",
        _ => throw new CborException($"Map at offset {mapOffset} has a key of kind {key.Kind}, which has no property name."),
    };

    // Only RFC 3339 date-times, as the JavaScript decoder accepts; JavaScript dates hold whole milliseconds.
    private static bool TryParseDate(string text, out DateTimeOffset date)
    {
        date = default;
        if (!IsoDatePattern().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out DateTimeOffset parsed))
        {
            return false;
        }

        date = new DateTimeOffset(parsed.Ticks - (parsed.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        return true;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex IsoDatePattern();

    private static bool TryFromEpochSeconds(double seconds, out DateTimeOffset date)
    {
        // JavaScript's Date truncates toward zero (TimeClip).
        double milliseconds = Math.Truncate(seconds * 1000);
        if (double.IsNaN(milliseconds) || milliseconds < -62135596800000 || milliseconds > 253402300799999)
        {
            date = default;
            return false;
        }

        date = DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds);
        return true;
    }

    private InvalidOperationException WrongKind(string expected) => new($"The value is {Kind}, not {expected}.");
}
