namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// Data of a type the codec does not interpret, kept as the raw RDATA bytes (RFC 3597). Names inside such data are
/// not decompressed: compression pointers in it refer to the packet it came from.
/// </summary>
internal sealed record DnsUnknownData : DnsRecordData
{
    private readonly byte[] _data;

    /// <summary>Initializes a new instance of the <see cref="DnsUnknownData"/> class.</summary>
    /// <param name="type">The record type.</param>
    /// <param name="data">The RDATA, copied; at most 65535 bytes.</param>
    /// <exception cref="ArgumentException">The data is longer than 65535 bytes.</exception>
    public DnsUnknownData(DnsRecordType type, ReadOnlySpan<byte> data)
    {
        if (data.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"RDATA is at most {ushort.MaxValue} bytes, not {data.Length}.", nameof(data));
        }

        Type = type;
        _data = data.ToArray();
    }

    /// <inheritdoc/>
    public override DnsRecordType Type { get; }

    /// <summary>Gets the raw RDATA.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <inheritdoc/>
    public bool Equals(DnsUnknownData? other) =>
        other is not null && Type == other.Type && _data.AsSpan().SequenceEqual(other._data);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Type);
        hash.AddBytes(_data);
        return hash.ToHashCode();
    }
}
