using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// A fully qualified domain name as a sequence of labels. Labels are arbitrary bytes (mDNS and DNS-SD names are
/// UTF-8, RFC 6762 §16, and instance labels may contain dots and spaces); names compare case-insensitively for
/// ASCII letters only, and keep the case they were created with.
/// </summary>
/// <remarks>
/// The name is held in uncompressed wire form (length-prefixed labels and the terminating zero), which is at most
/// 255 bytes; a name cannot be created that breaks the limits of RFC 1035 §2.3.4. <c>default</c> is the root name.
/// </remarks>
internal readonly struct DnsName : IEquatable<DnsName>
{
    /// <summary>The longest label, in bytes.</summary>
    public const int MaxLabelLength = 63;

    /// <summary>The longest name in wire form (length bytes and the terminating zero included).</summary>
    public const int MaxWireLength = 255;

    /// <summary>The most labels a name can have: every label takes at least two bytes of the 255.</summary>
    public const int MaxLabelCount = 127;

    private static readonly byte[] RootWire = [0];

    private readonly byte[]? _wire;

    // Takes ownership of a valid wire form; callers check the limits.
    private DnsName(byte[] wire) => _wire = wire;

    /// <summary>Gets the root name (no labels).</summary>
    public static DnsName Root => default;

    /// <summary>Gets a value indicating whether this is the root name.</summary>
    public bool IsRoot => Wire.Length == 1;

    /// <summary>Gets the length of the uncompressed wire form, terminating zero included (1 to 255).</summary>
    public int WireLength => Wire.Length;

    /// <summary>Gets the uncompressed wire form, terminating zero included.</summary>
    public ReadOnlySpan<byte> WireForm => Wire;

    /// <summary>Gets the number of labels (0 for the root).</summary>
    public int LabelCount
    {
        get
        {
            byte[] wire = Wire;
            int count = 0;
            for (int offset = 0; wire[offset] != 0; offset += wire[offset] + 1)
            {
                count++;
            }

            return count;
        }
    }

    /// <summary>Gets the labels, decoded as UTF-8.</summary>
    public IReadOnlyList<string> Labels
    {
        get
        {
            var labels = new List<string>();
            byte[] wire = Wire;
            for (int offset = 0; wire[offset] != 0; offset += wire[offset] + 1)
            {
                labels.Add(Encoding.UTF8.GetString(wire, offset + 1, wire[offset]));
            }

            return labels;
        }
    }

    private byte[] Wire => _wire ?? RootWire;

    /// <summary>Compares two names case-insensitively (ASCII).</summary>
    /// <param name="left">The first name.</param>
    /// <param name="right">The second name.</param>
    /// <returns><see langword="true"/> if the names are equal.</returns>
    public static bool operator ==(DnsName left, DnsName right) => left.Equals(right);

    /// <summary>Compares two names case-insensitively (ASCII).</summary>
    /// <param name="left">The first name.</param>
    /// <param name="right">The second name.</param>
    /// <returns><see langword="true"/> if the names differ.</returns>
    public static bool operator !=(DnsName left, DnsName right) => !left.Equals(right);

    /// <summary>
    /// Parses a dotted name such as <c>_example-net._tcp.local</c>. A trailing dot is optional; <c>""</c> and
    /// <c>"."</c> are the root. Inside a label, <c>\.</c> is a literal dot, <c>\\</c> a backslash and <c>\DDD</c>
    /// the byte with decimal value DDD (the form <see cref="ToString"/> writes); other characters are UTF-8 encoded.
    /// </summary>
    /// <param name="name">The dotted name.</param>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentException">The name has an empty label, a label longer than 63 bytes, a bad escape
    /// or is longer than 255 bytes in wire form.</exception>
    public static DnsName Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name == ".")
        {
            return Root;
        }

        var labels = new List<byte[]>();
        var label = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c == '.')
            {
                if (label.Count == 0)
                {
                    throw new ArgumentException($"'{name}' has an empty label.", nameof(name));
                }

                labels.Add([.. label]);
                label.Clear();
            }
            else if (c == '\\')
            {
                if (i + 1 >= name.Length)
                {
                    throw new ArgumentException($"'{name}' ends with a lone backslash.", nameof(name));
                }

                if (char.IsAsciiDigit(name[i + 1]))
                {
                    if (i + 3 >= name.Length || !char.IsAsciiDigit(name[i + 2]) || !char.IsAsciiDigit(name[i + 3]))
                    {
                        throw new ArgumentException($"'{name}' has a \\DDD escape with fewer than three digits.", nameof(name));
                    }

                    int value = int.Parse(name.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture);
                    if (value > byte.MaxValue)
                    {
                        throw new ArgumentException($"'{name}' has a \\DDD escape above 255.", nameof(name));
                    }

                    label.Add((byte)value);
                    i += 3;
                }
                else
                {
                    i++;
                    AddUtf8(label, name, ref i, utf8);
                }
            }
            else
            {
                AddUtf8(label, name, ref i, utf8);
            }
        }

        if (label.Count > 0)
        {
            labels.Add([.. label]);
        }

        return FromLabelBytes(labels);
    }

    /// <summary>Creates a name from labels, each encoded as UTF-8 as is (dots inside a label are part of it).</summary>
    /// <param name="labels">The labels, most specific first; none may be empty.</param>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentException">A label is empty or longer than 63 bytes, or the name is longer than
    /// 255 bytes in wire form.</exception>
    public static DnsName FromLabels(params IEnumerable<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return FromLabelBytes(labels.Select(label => Encoding.UTF8.GetBytes(label)));
    }

    /// <summary>Creates a name from raw labels.</summary>
    /// <param name="labels">The labels, most specific first; none may be empty.</param>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentException">A label is empty or longer than 63 bytes, or the name is longer than
    /// 255 bytes in wire form.</exception>
    public static DnsName FromLabelBytes(IEnumerable<byte[]> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var wire = new List<byte>();
        foreach (byte[] label in labels)
        {
            if (label.Length is 0 or > MaxLabelLength)
            {
                throw new ArgumentException($"A DNS label must be 1 to {MaxLabelLength} bytes long, not {label.Length}.", nameof(labels));
            }

            wire.Add((byte)label.Length);
            wire.AddRange(label);
            if (wire.Count + 1 > MaxWireLength)
            {
                throw new ArgumentException($"A DNS name must be at most {MaxWireLength} bytes long in wire form.", nameof(labels));
            }
        }

        wire.Add(0);
        return new DnsName([.. wire]);
    }

    /// <summary>Returns the label at <paramref name="index"/> as raw bytes.</summary>
    /// <param name="index">The label index, 0 being the most specific label.</param>
    /// <returns>The label bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">There is no such label.</exception>
    public ReadOnlySpan<byte> GetLabelBytes(int index)
    {
        int offset = GetLabelOffset(index);
        return Wire.AsSpan(offset + 1, Wire[offset]);
    }

    /// <summary>Returns the label at <paramref name="index"/> decoded as UTF-8.</summary>
    /// <param name="index">The label index, 0 being the most specific label.</param>
    /// <returns>The label.</returns>
    /// <exception cref="ArgumentOutOfRangeException">There is no such label.</exception>
    public string GetLabel(int index) => Encoding.UTF8.GetString(GetLabelBytes(index));

    /// <summary>Returns this name with its first <paramref name="count"/> labels removed.</summary>
    /// <param name="count">How many labels to remove, at most <see cref="LabelCount"/>.</param>
    /// <returns>The parent name (the root once all labels are removed).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or above the label count.</exception>
    public DnsName Skip(int count)
    {
        if (count == 0)
        {
            return this;
        }

        int offset = count == LabelCount ? Wire.Length - 1 : GetLabelOffset(count);
        return new DnsName(Wire[offset..]);
    }

    /// <summary>Returns a name with <paramref name="label"/> in front of this one, for example an instance label in
    /// front of a service type.</summary>
    /// <param name="label">The label, UTF-8 encoded as is.</param>
    /// <returns>The longer name.</returns>
    /// <exception cref="ArgumentException">The label is empty or too long, or the result is too long.</exception>
    public DnsName Prepend(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        byte[] bytes = Encoding.UTF8.GetBytes(label);
        if (bytes.Length is 0 or > MaxLabelLength)
        {
            throw new ArgumentException($"A DNS label must be 1 to {MaxLabelLength} bytes long, not {bytes.Length}.", nameof(label));
        }

        if (Wire.Length + bytes.Length + 1 > MaxWireLength)
        {
            throw new ArgumentException($"A DNS name must be at most {MaxWireLength} bytes long in wire form.", nameof(label));
        }

        byte[] wire = new byte[Wire.Length + bytes.Length + 1];
        wire[0] = (byte)bytes.Length;
        bytes.CopyTo(wire, 1);
        Wire.CopyTo(wire, bytes.Length + 1);
        return new DnsName(wire);
    }

    /// <summary>Tells whether this name equals <paramref name="suffix"/> or lies below it (case-insensitive).</summary>
    /// <param name="suffix">The possible ancestor, for example <c>local</c>.</param>
    /// <returns><see langword="true"/> if the last labels of this name are those of <paramref name="suffix"/>.</returns>
    public bool EndsWith(DnsName suffix)
    {
        int skip = LabelCount - suffix.LabelCount;
        return skip >= 0 && Skip(skip).Equals(suffix);
    }

    /// <inheritdoc/>
    public bool Equals(DnsName other) => EqualsIgnoreAsciiCase(Wire, other.Wire);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DnsName other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (byte b in Wire)
        {
            hash.Add(ToLowerAscii(b));
        }

        return hash.ToHashCode();
    }

    /// <summary>
    /// Returns the dotted form without a trailing dot (<c>"."</c> for the root). Dots and backslashes inside a label
    /// are escaped as <c>\.</c> and <c>\\</c>; control characters and bytes that are not valid UTF-8 as <c>\DDD</c>,
    /// so <see cref="Parse"/> gives the same name back.
    /// </summary>
    /// <returns>The dotted name.</returns>
    public override string ToString()
    {
        if (IsRoot)
        {
            return ".";
        }

        var text = new StringBuilder(Wire.Length);
        byte[] wire = Wire;
        for (int offset = 0; wire[offset] != 0; offset += wire[offset] + 1)
        {
            if (offset > 0)
            {
                text.Append('.');
            }

            AppendLabel(text, wire.AsSpan(offset + 1, wire[offset]));
        }

        return text.ToString();
    }

    // Used by the reader, which has already checked the limits.
    internal static DnsName FromValidatedWire(byte[] wire) => new(wire);

    internal static byte ToLowerAscii(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;

    // Length bytes are at most 63, below 'A', so folding the whole wire form only folds label letters.
    private static bool EqualsIgnoreAsciiCase(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }

        for (int i = 0; i < left.Length; i++)
        {
            if (left[i] != right[i] && ToLowerAscii(left[i]) != ToLowerAscii(right[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static void AddUtf8(List<byte> label, string name, ref int index, Span<byte> buffer)
    {
        int length = char.IsHighSurrogate(name[index]) && index + 1 < name.Length ? 2 : 1;
        int written = Encoding.UTF8.GetBytes(name.AsSpan(index, length), buffer);
        for (int j = 0; j < written; j++)
        {
            label.Add(buffer[j]);
        }

        index += length - 1;
    }

    private static void AppendLabel(StringBuilder text, ReadOnlySpan<byte> label)
    {
        bool validUtf8 = Utf8.IsValid(label);
        int i = 0;
        while (i < label.Length)
        {
            byte b = label[i];
            if (b == (byte)'.' || b == (byte)'\\')
            {
                text.Append('\\').Append((char)b);
                i++;
            }
            else if (b < 0x20 || b == 0x7F || (b >= 0x80 && !validUtf8))
            {
                text.Append('\\').Append(b.ToString("D3", CultureInfo.InvariantCulture));
                i++;
            }
            else if (b < 0x80)
            {
                text.Append((char)b);
                i++;
            }
            else
            {
                // A whole UTF-8 sequence: the label is valid UTF-8, so the lead byte gives its length.
                int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                text.Append(Encoding.UTF8.GetString(label.Slice(i, length)));
                i += length;
            }
        }
    }

    private int GetLabelOffset(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        byte[] wire = Wire;
        int offset = 0;
        for (int i = 0; i < index; i++)
        {
            if (wire[offset] == 0)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"The name has only {i} labels.");
            }

            offset += wire[offset] + 1;
        }

        if (wire[offset] == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The name has only {index} labels.");
        }

        return offset;
    }
}
