using System.Diagnostics.CodeAnalysis;

namespace Ataraxia.Cbor;

/// <summary>
/// A map with text keys that keeps JavaScript property order: integer-like keys ("0", "1", … up to 2^32 − 2)
/// in ascending numeric order first, then the other keys in insertion order. Setting an existing key keeps its
/// position, as assigning a property does in JavaScript.
/// </summary>
/// <remarks>Unlike the other values, a map can be changed while it is built; it is not thread-safe.</remarks>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "Named after the CBOR major type, like JsonObject.")]
public sealed class CborMap : CborValue, IReadOnlyDictionary<string, CborValue>
{
    // Integer-like keys, kept sorted by number; the others in insertion order with an index for lookups.
    // Small maps (most payloads) are searched linearly; the index and the sorted integer keys exist only when needed.
    private const int IndexThreshold = 8;

    private readonly List<KeyValuePair<string, CborValue>> _namedEntries = [];
    private SortedDictionary<uint, KeyValuePair<string, CborValue>>? _integerEntries;
    private Dictionary<string, int>? _namedIndex;

    /// <inheritdoc />
    public override CborValueKind Kind => CborValueKind.Map;

    /// <inheritdoc />
    public int Count => (_integerEntries?.Count ?? 0) + _namedEntries.Count;

    /// <inheritdoc />
    public IEnumerable<string> Keys => this.Select(e => e.Key);

    /// <inheritdoc />
    public IEnumerable<CborValue> Values => this.Select(e => e.Value);

    /// <summary>Gets or sets the value of a key.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">Getting a key that is not present.</exception>
    public CborValue this[string key]
    {
        get => TryGetValue(key, out CborValue? value) ? value : throw new KeyNotFoundException($"The map has no key '{key}'.");
        set => Set(key, value);
    }

    /// <summary>Adds or replaces a key (collection initializer support).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    public void Add(string key, CborValue value) => Set(key, value);

    /// <inheritdoc />
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out CborValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (TryParseArrayIndex(key, out uint number))
        {
            if (_integerEntries is not null && _integerEntries.TryGetValue(number, out KeyValuePair<string, CborValue> entry))
            {
                value = entry.Value;
                return true;
            }
        }
        else
        {
            int position = IndexOf(key);
            if (position >= 0)
            {
                value = _namedEntries[position].Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>Gets the value of a key, or <see langword="null"/> when absent.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value or <see langword="null"/>.</returns>
    public CborValue? GetValueOrDefault(string key) => TryGetValue(key, out CborValue? value) ? value : null;

    /// <inheritdoc />
    public override void WriteTo(CborWriter writer)
    {
        writer.WriteStartMap(Count);
        if (_integerEntries is not null)
        {
            foreach (KeyValuePair<string, CborValue> entry in _integerEntries.Values)
            {
                writer.WriteTextString(entry.Key);
                entry.Value.WriteTo(writer);
            }
        }

        foreach (KeyValuePair<string, CborValue> entry in _namedEntries)
        {
            writer.WriteTextString(entry.Key);
            entry.Value.WriteTo(writer);
        }
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, CborValue>> GetEnumerator()
    {
        if (_integerEntries is not null)
        {
            foreach (KeyValuePair<string, CborValue> entry in _integerEntries.Values)
            {
                yield return entry;
            }
        }

        foreach (KeyValuePair<string, CborValue> entry in _namedEntries)
        {
            yield return entry;
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override bool Equals(CborValue? other)
    {
        if (other is not CborMap map || map.Count != Count)
        {
            return false;
        }

        foreach (KeyValuePair<string, CborValue> entry in this)
        {
            if (!map.TryGetValue(entry.Key, out CborValue? value) || !value.Equals(entry.Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(CborValueKind.Map, Count);

    private void Set(string key, CborValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (TryParseArrayIndex(key, out uint number))
        {
            (_integerEntries ??= [])[number] = new(key, value);
            return;
        }

        int existing = IndexOf(key);
        if (existing >= 0)
        {
            _namedEntries[existing] = new(key, value);
            return;
        }

        if (_namedIndex is not null)
        {
            _namedIndex[key] = _namedEntries.Count;
        }
        else if (_namedEntries.Count == IndexThreshold)
        {
            _namedIndex = new Dictionary<string, int>(IndexThreshold * 2, StringComparer.Ordinal);
            for (int i = 0; i < _namedEntries.Count; i++)
            {
                _namedIndex[_namedEntries[i].Key] = i;
            }

            _namedIndex[key] = _namedEntries.Count;
        }

        _namedEntries.Add(new(key, value));
    }

    private int IndexOf(string key)
    {
        if (_namedIndex is not null)
        {
            return _namedIndex.TryGetValue(key, out int position) ? position : -1;
        }

        for (int i = 0; i < _namedEntries.Count; i++)
        {
            if (string.Equals(_namedEntries[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    // ECMAScript array index: canonical decimal without leading zeros, below 2^32 - 1.
    private static bool TryParseArrayIndex(string key, out uint number)
    {
        number = 0;
        if (key.Length is 0 or > 10 || (key.Length > 1 && key[0] == '0'))
        {
            return false;
        }

        ulong value = 0;
        foreach (char c in key)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            value = (value * 10) + (ulong)(c - '0');
        }

        if (value >= uint.MaxValue)
        {
            return false;
        }

        number = (uint)value;
        return true;
    }
}
