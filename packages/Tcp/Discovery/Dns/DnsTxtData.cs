using System.Text;

namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// TXT data (RFC 1035 §3.3.14): a list of byte strings of up to 255 bytes each. DNS-SD reads them as
/// <c>key=value</c> attributes (RFC 6763 §6); see <see cref="FromProperties"/> and <see cref="GetProperties"/>.
/// </summary>
internal sealed record DnsTxtData : DnsRecordData
{
    /// <summary>The longest string, in bytes.</summary>
    public const int MaxStringLength = 255;

    private readonly ReadOnlyMemory<byte>[] _strings;

    /// <summary>Initializes a new instance of the <see cref="DnsTxtData"/> class.</summary>
    /// <param name="strings">The strings, kept as given (not copied); each at most 255 bytes. An empty list encodes
    /// as empty RDATA; RFC 6763 §6.1 asks for one empty string instead, which <see cref="FromProperties"/> gives.</param>
    /// <exception cref="ArgumentException">A string is longer than 255 bytes, or all of them do not fit 65535
    /// bytes of RDATA.</exception>
    public DnsTxtData(IEnumerable<ReadOnlyMemory<byte>> strings)
    {
        ArgumentNullException.ThrowIfNull(strings);
        _strings = [.. strings];
        int total = 0;
        foreach (ReadOnlyMemory<byte> s in _strings)
        {
            if (s.Length > MaxStringLength)
            {
                throw new ArgumentException($"A TXT string is at most {MaxStringLength} bytes, not {s.Length}.", nameof(strings));
            }

            total += s.Length + 1;
        }

        if (total > ushort.MaxValue)
        {
            throw new ArgumentException($"TXT strings take {total} bytes; RDATA holds at most {ushort.MaxValue}.", nameof(strings));
        }
    }

    /// <summary>Gets the strings, in order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Strings => _strings;

    /// <inheritdoc/>
    public override DnsRecordType Type => DnsRecordType.Txt;

    /// <summary>
    /// Builds DNS-SD attributes (RFC 6763 §6): <c>key=value</c> with the value UTF-8 encoded, or just <c>key</c> for a
    /// <see langword="null"/> value (a boolean attribute). No properties give the single empty string of §6.1.
    /// </summary>
    /// <param name="properties">The attributes, in the order to send them.</param>
    /// <returns>The TXT data.</returns>
    /// <exception cref="ArgumentException">A key is empty, contains <c>=</c> or characters outside printable
    /// ASCII, appears twice (ignoring case), or an attribute is longer than 255 bytes.</exception>
    public static DnsTxtData FromProperties(IEnumerable<KeyValuePair<string, string?>> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var strings = new List<ReadOnlyMemory<byte>>();
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach ((string key, string? value) in properties)
        {
            ArgumentNullException.ThrowIfNull(key, nameof(properties));
            if (key.Length == 0 || !key.All(c => c is >= ' ' and <= '~' and not '='))
            {
                throw new ArgumentException($"TXT key '{key}' must be non-empty printable ASCII without '='.", nameof(properties));
            }

            if (!keys.Add(key))
            {
                throw new ArgumentException($"TXT key '{key}' appears more than once (keys ignore case).", nameof(properties));
            }

            byte[] entry = value is null
                ? Encoding.ASCII.GetBytes(key)
                : Encoding.UTF8.GetBytes(key + "=" + value);
            if (entry.Length > MaxStringLength)
            {
                throw new ArgumentException($"TXT attribute '{key}' takes {entry.Length} bytes; the limit is {MaxStringLength}.", nameof(properties));
            }

            strings.Add(entry);
        }

        if (strings.Count == 0)
        {
            strings.Add(ReadOnlyMemory<byte>.Empty);
        }

        return new DnsTxtData(strings);
    }

    /// <summary>
    /// Reads the strings as DNS-SD attributes (RFC 6763 §6.3–6.4). Keys compare case-insensitively; a key without
    /// <c>=</c> is a boolean attribute (value <see langword="null"/>); <c>key=</c> has an empty value; the value is
    /// the raw bytes after the first <c>=</c>. Only the first occurrence of a key counts, and empty strings, strings
    /// starting with <c>=</c> and keys that are not printable ASCII are ignored.
    /// </summary>
    /// <returns>The attributes by key (<see cref="StringComparer.OrdinalIgnoreCase"/>).</returns>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>?> GetProperties()
    {
        var properties = new Dictionary<string, ReadOnlyMemory<byte>?>(StringComparer.OrdinalIgnoreCase);
        foreach (ReadOnlyMemory<byte> entry in _strings)
        {
            ReadOnlySpan<byte> span = entry.Span;
            int equals = span.IndexOf((byte)'=');
            ReadOnlySpan<byte> key = equals < 0 ? span : span[..equals];
            if (key.IsEmpty || !IsValidKey(key))
            {
                continue;
            }

            // The cast matters: a bare null would convert through byte[] to an empty ReadOnlyMemory.
            ReadOnlyMemory<byte>? value = equals < 0 ? (ReadOnlyMemory<byte>?)null : entry[(equals + 1)..];
            properties.TryAdd(Encoding.ASCII.GetString(key), value);
        }

        return properties;
    }

    /// <inheritdoc/>
    public bool Equals(DnsTxtData? other)
    {
        if (other is null || _strings.Length != other._strings.Length)
        {
            return false;
        }

        for (int i = 0; i < _strings.Length; i++)
        {
            if (!_strings[i].Span.SequenceEqual(other._strings[i].Span))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (ReadOnlyMemory<byte> s in _strings)
        {
            hash.Add(s.Length);
            hash.AddBytes(s.Span);
        }

        return hash.ToHashCode();
    }

    private static bool IsValidKey(ReadOnlySpan<byte> key)
    {
        foreach (byte b in key)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return false;
            }
        }

        return true;
    }
}
