using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Security.Cryptography;

namespace Ataraxia;

/// <summary>
/// The id of a node in the mesh: an opaque byte string, compared bytewise.
/// </summary>
/// <remarks>
/// <para>
/// Nodes normally use 16 bytes (random, with the UUID version 4 and variant bits set, see
/// <see cref="NewId"/>), but an id received from a peer may have any length, including zero,
/// and is kept exactly as received. Two ids are equal only if they have the same length and the
/// same bytes.
/// </para>
/// <para>
/// <c>default(NodeId)</c> is the 16-byte id whose bytes are all zero; its string form is
/// <c>"0"</c>. It is never produced by <see cref="NewId"/>.
/// </para>
/// <para>
/// The string form (<see cref="ToString()"/>, <see cref="Parse(string)"/>) is the custom base-62
/// encoding of the JavaScript implementation (note that its alphabet has <c>l</c> before
/// <c>k</c>). Leading zero bytes are lost when formatting, so the string form is only an exact
/// round trip when the first byte is not zero.
/// </para>
/// </remarks>
public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>, ISpanFormattable, ISpanParsable<NodeId>
{
    /// <summary>The number of bytes in a standard node id.</summary>
    public const int StandardLength = 16;

    /// <summary>
    /// The longest string that <see cref="Parse(string)"/> and <see cref="TryParse(string, out NodeId)"/>
    /// accept. Longer strings are rejected.
    /// </summary>
    public const int MaxStringLength = 256;

    private const string Alphabet = "0123456789abcdefghijlkmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const int Base = 62;

    // 62^10: the largest power of 62 that fits in a ulong; digits are produced ten at a time.
    private const ulong ChunkDivisor = 839_299_365_868_340_224UL;
    private const int ChunkDigits = 10;

    // Stack buffer size used for formatting; enough for ids of up to 46 bytes.
    private const int StackFormatBuffer = 64;

    private static readonly sbyte[] DigitValues = BuildDigitValues();

    // Fast path (_bytes is null): a 16-byte id stored as two big-endian halves.
    // Otherwise _bytes holds a private copy of the bytes and its length is never 16.
    private readonly ulong _hi;
    private readonly ulong _lo;
    private readonly byte[]? _bytes;

    /// <summary>
    /// Creates a node id holding a copy of <paramref name="bytes"/>, which may have any length.
    /// </summary>
    /// <param name="bytes">The bytes of the id.</param>
    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == StandardLength)
        {
            _hi = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            _lo = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
            _bytes = null;
        }
        else
        {
            _hi = 0;
            _lo = 0;
            _bytes = bytes.ToArray();
        }
    }

    // Either bytes is null (a 16-byte id in hi/lo), or hi and lo are zero and the id takes
    // ownership of bytes, whose length must not be 16.
    private NodeId(ulong hi, ulong lo, byte[]? bytes)
    {
        _hi = hi;
        _lo = lo;
        _bytes = bytes;
    }

    /// <summary>The number of bytes in this id (16 for <c>default(NodeId)</c>).</summary>
    public int Length => _bytes?.Length ?? StandardLength;

    /// <summary>
    /// Generates a new random 16-byte node id the way the JavaScript implementation does:
    /// 16 bytes from <see cref="RandomNumberGenerator"/> with the UUID version 4 and variant
    /// bits forced (see <see cref="FromRandomBytes"/>).
    /// </summary>
    /// <returns>A new node id.</returns>
    public static NodeId NewId()
    {
        Span<byte> random = stackalloc byte[StandardLength];
        RandomNumberGenerator.Fill(random);
        return FromRandomBytes(random);
    }

    /// <summary>
    /// Builds a 16-byte node id from 16 given random bytes, applying the same bit rules as
    /// <see cref="NewId"/>: <c>b[6] = (b[6] &amp; 0x0f) | 0x40</c> and
    /// <c>b[8] = (b[8] &amp; 0x3f) | 0x80</c>. Intended for test vectors and tests that need a
    /// reproducible id; use <see cref="NewId"/> for real nodes.
    /// </summary>
    /// <param name="random16">Exactly 16 bytes.</param>
    /// <returns>The node id.</returns>
    /// <exception cref="ArgumentException"><paramref name="random16"/> is not 16 bytes long.</exception>
    public static NodeId FromRandomBytes(ReadOnlySpan<byte> random16)
    {
        if (random16.Length != StandardLength)
        {
            throw new ArgumentException($"Expected {StandardLength} bytes, got {random16.Length}.", nameof(random16));
        }

        Span<byte> b = stackalloc byte[StandardLength];
        random16.CopyTo(b);
        b[6] = (byte)((b[6] & 0x0f) | 0x40);
        b[8] = (byte)((b[8] & 0x3f) | 0x80);
        return new NodeId(b);
    }

    /// <summary>Copies the bytes of this id to the start of <paramref name="destination"/>.</summary>
    /// <param name="destination">Where to write; must hold at least <see cref="Length"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void CopyTo(Span<byte> destination)
    {
        if (!TryCopyTo(destination))
        {
            throw new ArgumentException($"Destination is too short: need {Length} bytes.", nameof(destination));
        }
    }

    /// <summary>Copies the bytes of this id to the start of <paramref name="destination"/> if they fit.</summary>
    /// <param name="destination">Where to write.</param>
    /// <returns><see langword="true"/> if the bytes were written; <see langword="false"/> if the destination is too short.</returns>
    public bool TryCopyTo(Span<byte> destination)
    {
        if (_bytes is not null)
        {
            return _bytes.AsSpan().TryCopyTo(destination);
        }

        if (destination.Length < StandardLength)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _hi);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _lo);
        return true;
    }

    /// <summary>Returns a new array holding the bytes of this id.</summary>
    /// <returns>A copy of the bytes.</returns>
    public byte[] ToByteArray()
    {
        if (_bytes is not null)
        {
            return _bytes.Length == 0 ? [] : (byte[])_bytes.Clone();
        }

        var result = new byte[StandardLength];
        CopyTo(result);
        return result;
    }

    /// <summary>Tells whether this id consists of exactly the given bytes, without allocating.</summary>
    /// <param name="other">The raw bytes to compare with.</param>
    /// <returns><see langword="true"/> if the lengths and bytes are equal.</returns>
    public bool SequenceEqual(ReadOnlySpan<byte> other)
    {
        if (_bytes is not null)
        {
            return _bytes.AsSpan().SequenceEqual(other);
        }

        return other.Length == StandardLength
            && BinaryPrimitives.ReadUInt64BigEndian(other) == _hi
            && BinaryPrimitives.ReadUInt64BigEndian(other[8..]) == _lo;
    }

    /// <inheritdoc/>
    public bool Equals(NodeId other)
    {
        if (_bytes is null)
        {
            return other._bytes is null && _hi == other._hi && _lo == other._lo;
        }

        return other._bytes is not null && _bytes.AsSpan().SequenceEqual(other._bytes);
    }

    /// <inheritdoc/>
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is NodeId other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        if (_bytes is null)
        {
            return HashCode.Combine(_hi, _lo);
        }

        var hash = default(HashCode);
        hash.Add(_bytes.Length);
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    /// <summary>
    /// Compares the bytes of two ids in lexicographic unsigned order; when one id is a prefix of
    /// the other, the shorter one comes first. Suitable for deterministic tie-breaks.
    /// </summary>
    /// <param name="other">The id to compare with.</param>
    /// <returns>A negative number, zero or a positive number as this id sorts before, equal to or after <paramref name="other"/>.</returns>
    public int CompareTo(NodeId other)
    {
        if (_bytes is null && other._bytes is null)
        {
            int hi = _hi.CompareTo(other._hi);
            return hi != 0 ? hi : _lo.CompareTo(other._lo);
        }

        Span<byte> leftScratch = stackalloc byte[StandardLength];
        Span<byte> rightScratch = stackalloc byte[StandardLength];
        return GetSpan(leftScratch).SequenceCompareTo(other.GetSpan(rightScratch));
    }

    /// <summary>Returns the base-62 string form of this id (see the type remarks).</summary>
    /// <returns>The encoded id; <c>"0"</c> for an id whose bytes are all zero or that is empty.</returns>
    public override string ToString()
    {
        int max = MaxEncodedLength(Length);
        Span<char> buffer = max <= StackFormatBuffer ? stackalloc char[StackFormatBuffer] : new char[max];
        int count = EncodeDigits(buffer);
        return new string(buffer[^count..]);
    }

    /// <summary>Returns the base-62 string form of this id.</summary>
    /// <param name="format">Must be <see langword="null"/> or empty; no other formats exist.</param>
    /// <param name="formatProvider">Ignored.</param>
    /// <returns>The same string as <see cref="ToString()"/>.</returns>
    /// <exception cref="FormatException"><paramref name="format"/> is not empty.</exception>
    string IFormattable.ToString(string? format, IFormatProvider? formatProvider)
    {
        ThrowIfFormatNotEmpty(format);
        return ToString();
    }

    /// <summary>Writes the base-62 string form of this id to <paramref name="destination"/>.</summary>
    /// <param name="destination">Where to write the characters.</param>
    /// <param name="charsWritten">How many characters were written (0 on failure).</param>
    /// <param name="format">Must be empty; no other formats exist.</param>
    /// <param name="provider">Ignored.</param>
    /// <returns><see langword="true"/> if the string fit in <paramref name="destination"/>.</returns>
    /// <exception cref="FormatException"><paramref name="format"/> is not empty.</exception>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        ThrowIfFormatNotEmpty(format);
        int max = MaxEncodedLength(Length);
        Span<char> buffer = max <= StackFormatBuffer ? stackalloc char[StackFormatBuffer] : new char[max];
        int count = EncodeDigits(buffer);
        if (buffer[^count..].TryCopyTo(destination))
        {
            charsWritten = count;
            return true;
        }

        charsWritten = 0;
        return false;
    }

    /// <summary>Parses the base-62 string form of a node id.</summary>
    /// <param name="s">
    /// The string. Every leading <c>'0'</c> except the last character becomes a leading zero
    /// byte; the empty string gives the empty (0-byte) id.
    /// </param>
    /// <returns>The id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="s"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException">
    /// <paramref name="s"/> contains a character outside the alphabet or is longer than <see cref="MaxStringLength"/>.
    /// </exception>
    public static NodeId Parse(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return Parse(s.AsSpan());
    }

    /// <summary>Parses the base-62 string form of a node id.</summary>
    /// <param name="s">The characters to parse.</param>
    /// <returns>The id.</returns>
    /// <exception cref="FormatException">
    /// <paramref name="s"/> contains a character outside the alphabet or is longer than <see cref="MaxStringLength"/>.
    /// </exception>
    public static NodeId Parse(ReadOnlySpan<char> s)
    {
        string? error = TryDecode(s, out NodeId result);
        return error is null ? result : throw new FormatException(error);
    }

    /// <summary>Tries to parse the base-62 string form of a node id.</summary>
    /// <param name="s">The string; <see langword="null"/> fails.</param>
    /// <param name="result">The id, or <c>default</c> on failure.</param>
    /// <returns>
    /// <see langword="false"/> if <paramref name="s"/> is <see langword="null"/>, contains a character
    /// outside the alphabet or is longer than <see cref="MaxStringLength"/>.
    /// </returns>
    public static bool TryParse([NotNullWhen(true)] string? s, out NodeId result)
    {
        if (s is null)
        {
            result = default;
            return false;
        }

        return TryDecode(s, out result) is null;
    }

    /// <summary>Tries to parse the base-62 string form of a node id.</summary>
    /// <param name="s">The characters to parse.</param>
    /// <param name="result">The id, or <c>default</c> on failure.</param>
    /// <returns><see langword="false"/> if <paramref name="s"/> is not a valid node id string.</returns>
    public static bool TryParse(ReadOnlySpan<char> s, out NodeId result) => TryDecode(s, out result) is null;

    /// <inheritdoc/>
    static NodeId IParsable<NodeId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    /// <inheritdoc/>
    static NodeId ISpanParsable<NodeId>.Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    /// <inheritdoc/>
    static bool IParsable<NodeId>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out NodeId result) => TryParse(s, out result);

    /// <inheritdoc/>
    static bool ISpanParsable<NodeId>.TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out NodeId result) => TryParse(s, out result);

    /// <summary>Tells whether two ids have the same bytes.</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns><see langword="true"/> if equal.</returns>
    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    /// <summary>Tells whether two ids differ.</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns><see langword="true"/> if not equal.</returns>
    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    /// <summary>Tells whether <paramref name="left"/> sorts before <paramref name="right"/> (see <see cref="CompareTo"/>).</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns>The result of the comparison.</returns>
    public static bool operator <(NodeId left, NodeId right) => left.CompareTo(right) < 0;

    /// <summary>Tells whether <paramref name="left"/> sorts before or equal to <paramref name="right"/> (see <see cref="CompareTo"/>).</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns>The result of the comparison.</returns>
    public static bool operator <=(NodeId left, NodeId right) => left.CompareTo(right) <= 0;

    /// <summary>Tells whether <paramref name="left"/> sorts after <paramref name="right"/> (see <see cref="CompareTo"/>).</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns>The result of the comparison.</returns>
    public static bool operator >(NodeId left, NodeId right) => left.CompareTo(right) > 0;

    /// <summary>Tells whether <paramref name="left"/> sorts after or equal to <paramref name="right"/> (see <see cref="CompareTo"/>).</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns>The result of the comparison.</returns>
    public static bool operator >=(NodeId left, NodeId right) => left.CompareTo(right) >= 0;

    private ReadOnlySpan<byte> GetSpan(Span<byte> scratch)
    {
        if (_bytes is not null)
        {
            return _bytes;
        }

        BinaryPrimitives.WriteUInt64BigEndian(scratch, _hi);
        BinaryPrimitives.WriteUInt64BigEndian(scratch[8..], _lo);
        return scratch[..StandardLength];
    }

    private static void ThrowIfFormatNotEmpty(ReadOnlySpan<char> format)
    {
        if (!format.IsEmpty)
        {
            throw new FormatException("NodeId supports no format strings.");
        }
    }

    // An upper bound on the number of base-62 digits for an id of the given length:
    // 8 / log2(62) = 1.34359... digits per byte, plus one for rounding and one for the value zero.
    private static int MaxEncodedLength(int byteCount) => (int)((long)byteCount * 1344 / 1000) + 2;

    // Writes the digits right-aligned at the end of buffer and returns how many were written.
    private int EncodeDigits(Span<char> buffer)
    {
        if (_bytes is null)
        {
            return EncodeValue(new UInt128(_hi, _lo), buffer);
        }

        if (_bytes.Length <= StandardLength)
        {
            UInt128 value = 0;
            foreach (byte b in _bytes)
            {
                value = (value << 8) | b;
            }

            return EncodeValue(value, buffer);
        }

        var big = new BigInteger(_bytes, isUnsigned: true, isBigEndian: true);
        int position = buffer.Length;
        while (big >= ChunkDivisor)
        {
            big = BigInteger.DivRem(big, ChunkDivisor, out BigInteger remainder);
            position = WriteDigits((ulong)remainder, buffer, position, padded: true);
        }

        position = WriteDigits((ulong)big, buffer, position, padded: false);
        return buffer.Length - position;
    }

    private static int EncodeValue(UInt128 value, Span<char> buffer)
    {
        int position = buffer.Length;
        while (value >= ChunkDivisor)
        {
            (value, UInt128 remainder) = UInt128.DivRem(value, ChunkDivisor);
            position = WriteDigits((ulong)remainder, buffer, position, padded: true);
        }

        position = WriteDigits((ulong)value, buffer, position, padded: false);
        return buffer.Length - position;
    }

    // Writes value (< 62^10) in base 62 just before position; padded writes exactly ten digits,
    // otherwise as many as needed (at least one). Returns the new start position.
    private static int WriteDigits(ulong value, Span<char> buffer, int position, bool padded)
    {
        if (padded)
        {
            for (int i = 0; i < ChunkDigits; i++)
            {
                (value, ulong digit) = Math.DivRem(value, Base);
                buffer[--position] = Alphabet[(int)digit];
            }
        }
        else
        {
            do
            {
                (value, ulong digit) = Math.DivRem(value, Base);
                buffer[--position] = Alphabet[(int)digit];
            }
            while (value != 0);
        }

        return position;
    }

    // Returns null on success, otherwise the reason for failure.
    private static string? TryDecode(ReadOnlySpan<char> s, out NodeId result)
    {
        result = default;
        if (s.Length > MaxStringLength)
        {
            return $"A node id string is at most {MaxStringLength} characters long.";
        }

        if (s.IsEmpty)
        {
            result = new NodeId(0, 0, []);
            return null;
        }

        // Each leading '0' adds a zero byte, but the last character never counts.
        int leadingZeros = 0;
        while (leadingZeros < s.Length - 1 && s[leadingZeros] == '0')
        {
            leadingZeros++;
        }

        UInt128 small = 0;
        BigInteger big = BigInteger.Zero;
        bool overflow = false;
        foreach (char c in s)
        {
            int digit = c < DigitValues.Length ? DigitValues[c] : -1;
            if (digit < 0)
            {
                return "A node id string contains a character outside the base-62 alphabet.";
            }

            if (!overflow)
            {
                if (small <= (UInt128.MaxValue - (uint)digit) / Base)
                {
                    small = (small * Base) + (uint)digit;
                    continue;
                }

                overflow = true;
                big = small;
            }

            big = (big * Base) + digit;
        }

        if (overflow)
        {
            int magnitude = big.GetByteCount(isUnsigned: true);
            var bytes = new byte[leadingZeros + magnitude];
            big.TryWriteBytes(bytes.AsSpan(leadingZeros), out _, isUnsigned: true, isBigEndian: true);
            result = new NodeId(0, 0, bytes);
            return null;
        }

        // The minimal big-endian form of the value; zero is one 00 byte.
        int minimal = small == 0 ? 1 : (128 - (int)UInt128.LeadingZeroCount(small) + 7) / 8;
        int total = leadingZeros + minimal;
        if (total == StandardLength)
        {
            result = new NodeId((ulong)(small >> 64), (ulong)small, null);
            return null;
        }

        var owned = new byte[total];
        for (int i = 0; i < minimal; i++)
        {
            owned[total - 1 - i] = (byte)(small >> (8 * i));
        }

        result = new NodeId(0, 0, owned);
        return null;
    }

    private static sbyte[] BuildDigitValues()
    {
        var values = new sbyte[128];
        values.AsSpan().Fill(-1);
        for (int i = 0; i < Alphabet.Length; i++)
        {
            values[Alphabet[i]] = (sbyte)i;
        }

        return values;
    }
}
