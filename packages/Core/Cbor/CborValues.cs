using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ataraxia.Cbor;

internal sealed class CborConstant : CborValue
{
    private readonly CborValueKind _kind;

    public CborConstant(CborValueKind kind, bool booleanValue = false)
    {
        _kind = kind;
        BooleanValue = booleanValue;
    }

    public bool BooleanValue { get; }

    public override CborValueKind Kind => _kind;

    public override void WriteTo(CborWriter writer)
    {
        switch (_kind)
        {
            case CborValueKind.Undefined: writer.WriteUndefined(); break;
            case CborValueKind.Null: writer.WriteNull(); break;
            default: writer.WriteBoolean(BooleanValue); break;
        }
    }

    public override bool Equals(CborValue? other) => other is CborConstant c && c._kind == _kind && c.BooleanValue == BooleanValue;

    public override int GetHashCode() => HashCode.Combine(_kind, BooleanValue);

    public override string ToString() => _kind switch
    {
        CborValueKind.Undefined => "undefined",
        CborValueKind.Null => "null",
        _ => BooleanValue ? "true" : "false",
    };
}

/// <summary>An integer within ±(2^53 − 1), the range JavaScript represents exactly.</summary>
public sealed class CborInteger : CborValue
{
    /// <summary>Creates an integer value.</summary>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentOutOfRangeException">The value lies outside ±(2^53 − 1).</exception>
    public CborInteger(long value)
    {
        if (value is > CborWriter.MaxSafeInteger or < CborWriter.MinSafeInteger)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "JavaScript peers cannot represent integers beyond ±(2^53 - 1); send a double or a string instead.");
        }

        Value = value;
    }

    /// <summary>Gets the value.</summary>
    public long Value { get; }

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Integer;

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer) => writer.WriteInt64(Value);

    /// <inheritdoc />
    public override bool Equals(CborValue? other) => other switch
    {
        CborInteger i => i.Value == Value,
        CborFloat f => f.Value == Value,
        _ => false,
    };

    /// <inheritdoc />
    public override int GetHashCode() => ((double)Value).GetHashCode();

    /// <inheritdoc />
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A floating point number; encoded like a JavaScript number (integral values as integers).</summary>
/// <param name="value">The value.</param>
public sealed class CborFloat(double value) : CborValue
{
    /// <summary>Gets the value.</summary>
    public double Value { get; } = value;

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Float;

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer) => writer.WriteNumber(Value);

    /// <inheritdoc />
    public override bool Equals(CborValue? other) => other switch
    {
        CborFloat f => f.Value.Equals(Value),
        CborInteger i => Value == i.Value,
        _ => false,
    };

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode();

    /// <inheritdoc />
    public override string ToString() => ToJavaScriptString(Value);

    // Number.prototype.toString (ECMA-262 Number::toString): shortest round-trip digits, plain notation for
    // decimal exponents in (-7, 21], exponential notation otherwise.
    internal static string ToJavaScriptString(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        if (value == 0)
        {
            return "0";
        }

        string roundTrip = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);

        // Decompose the shortest round-trip form into its significant digits and decimal exponent.
        int exponentIndex = roundTrip.IndexOfAny(['E', 'e']);
        string mantissa = exponentIndex < 0 ? roundTrip : roundTrip[..exponentIndex];
        int exponent = exponentIndex < 0 ? 0 : int.Parse(roundTrip[(exponentIndex + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int point = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        int n = (point < 0 ? mantissa.Length : point) + exponent;
        int leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        n -= leadingZeros;
        int k = digits.Length;

        string text;
        if (k <= n && n <= 21)
        {
            text = digits + new string('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            text = digits[..n] + "." + digits[n..];
        }
        else if (-6 < n && n <= 0)
        {
            text = "0." + new string('0', -n) + digits;
        }
        else
        {
            int e = n - 1;
            string sign = e < 0 ? "-" : "+";
            text = (k == 1 ? digits : digits[..1] + "." + digits[1..]) + "e" + sign + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
        }

        return value < 0 ? "-" + text : text;
    }
}

/// <summary>A text string.</summary>
public sealed class CborText : CborValue
{
    /// <summary>Creates a text value.</summary>
    /// <param name="value">The text.</param>
    public CborText(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Value = value;
    }

    /// <summary>Gets the text.</summary>
    public string Value { get; }

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Text;

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer) => writer.WriteTextString(Value);

    /// <inheritdoc />
    public override bool Equals(CborValue? other) => other is CborText t && t.Value == Value;

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>A byte string.</summary>
public sealed class CborBytes : CborValue
{
    /// <summary>Creates a byte string value that copies <paramref name="value"/>.</summary>
    /// <param name="value">The bytes.</param>
    public CborBytes(ReadOnlySpan<byte> value) => Value = value.ToArray();

    /// <summary>Gets the bytes.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Bytes;

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer) => writer.WriteByteString(Value.Span);

    /// <inheritdoc />
    public override bool Equals(CborValue? other) => other is CborBytes b && b.Value.Span.SequenceEqual(Value.Span);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Value.Span);
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => Convert.ToHexStringLower(Value.Span);
}

/// <summary>A date, written as tag 0 with an ISO 8601 string in whole seconds (as JavaScript does).</summary>
/// <param name="value">The instant.</param>
public sealed class CborDate(DateTimeOffset value) : CborValue
{
    /// <summary>Gets the instant.</summary>
    public DateTimeOffset Value { get; } = value;

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Date;

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer)
    {
        writer.WriteTag(0);
        writer.WriteTextString(Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public override bool Equals(CborValue? other) => other is CborDate d && d.Value == Value;

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode();

    /// <inheritdoc />
    public override string ToString() => Value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}

/// <summary>An item with a tag other than 0 and 1 (which are dates); JavaScript keeps these as opaque objects.</summary>
public sealed class CborTagged : CborValue
{
    /// <summary>Creates a tagged value.</summary>
    /// <param name="tag">The tag number.</param>
    /// <param name="content">The tagged item.</param>
    public CborTagged(ulong tag, CborValue content)
    {
        ArgumentNullException.ThrowIfNull(content);
        Tag = tag;
        Content = content;
    }

    /// <summary>Gets the tag number.</summary>
    public ulong Tag { get; }

    /// <summary>Gets the tagged item.</summary>
    public CborValue Content { get; }

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Tagged;

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer)
    {
        writer.WriteTag(Tag);
        Content.WriteTo(writer);
    }

    /// <inheritdoc />
    public override bool Equals(CborValue? other) => other is CborTagged t && t.Tag == Tag && t.Content.Equals(Content);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Tag, Content);
}

/// <summary>An unassigned simple value (not false, true, null or undefined).</summary>
public sealed class CborSimple : CborValue
{
    /// <summary>Creates a simple value.</summary>
    /// <param name="value">0–19 or 32–255; 20–23 are false/true/null/undefined and 24–31 are reserved.</param>
    public CborSimple(byte value)
    {
        if (value is >= 20 and < 32)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Simple values 20-23 have their own kinds and 24-31 are reserved.");
        }

        Value = value;
    }

    /// <summary>Gets the simple value number.</summary>
    public byte Value { get; }

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Simple;

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer) => writer.WriteSimpleValue(Value);

    /// <inheritdoc />
    public override bool Equals(CborValue? other) => other is CborSimple s && s.Value == Value;

    /// <inheritdoc />
    public override int GetHashCode() => Value;
}

/// <summary>An immutable array of values.</summary>
[CollectionBuilder(typeof(CborArray), nameof(Create))]
public sealed class CborArray : CborValue, IReadOnlyList<CborValue>
{
    private readonly List<CborValue> _items;

    /// <summary>Creates an array holding <paramref name="items"/>.</summary>
    /// <param name="items">The items.</param>
    public CborArray(IEnumerable<CborValue> items)
        : this(new List<CborValue>(items), copy: false)
    {
    }

    internal CborArray(List<CborValue> items, bool copy)
    {
        _items = copy ? [.. items] : items;
    }

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Array;

    /// <inheritdoc />
    public int Count => _items.Count;

    /// <inheritdoc />
    public CborValue this[int index] => _items[index];

    /// <summary>Creates an array (collection expression support).</summary>
    /// <param name="items">The items.</param>
    /// <returns>The array.</returns>
    public static CborArray Create(ReadOnlySpan<CborValue> items) => new([.. items], copy: false);

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer)
    {
        writer.WriteStartArray(_items.Count);
        foreach (CborValue item in _items)
        {
            item.WriteTo(writer);
        }
    }

    /// <inheritdoc />
    public IEnumerator<CborValue> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override bool Equals(CborValue? other) => other is CborArray a && a._items.SequenceEqual(_items);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(CborValueKind.Array, _items.Count);
}
