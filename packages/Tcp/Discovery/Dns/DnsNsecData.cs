namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// NSEC data (RFC 4034 §4.1): the next domain name and the set of types that exist for the owner name. mDNS uses
/// it to say "no other types exist" (RFC 6762 §6.1), in a restricted form: the next domain name is the owner name
/// itself and only types below 256 appear (one bitmap window); <see cref="ForOwner"/> builds that form.
/// </summary>
internal sealed record DnsNsecData : DnsRecordData
{
    private readonly DnsRecordType[] _types;

    /// <summary>Initializes a new instance of the <see cref="DnsNsecData"/> class.</summary>
    /// <param name="nextDomainName">The next domain name (in mDNS, the owner name).</param>
    /// <param name="types">The types present; order and duplicates do not matter.</param>
    public DnsNsecData(DnsName nextDomainName, IEnumerable<DnsRecordType> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        NextDomainName = nextDomainName;
        _types = [.. types.Distinct().Order()];
    }

    /// <summary>Gets the next domain name.</summary>
    public DnsName NextDomainName { get; }

    /// <summary>Gets the types present, ascending, without duplicates.</summary>
    public IReadOnlyList<DnsRecordType> Types => _types;

    /// <inheritdoc/>
    public override DnsRecordType Type => DnsRecordType.Nsec;

    /// <summary>Builds the restricted mDNS form (RFC 6762 §6.1) for a record owned by <paramref name="owner"/>.</summary>
    /// <param name="owner">The owner name, which is also the next domain name.</param>
    /// <param name="types">The types that exist for the owner; all below 256.</param>
    /// <returns>The NSEC data.</returns>
    /// <exception cref="ArgumentException">A type is 256 or above.</exception>
    public static DnsNsecData ForOwner(DnsName owner, params IEnumerable<DnsRecordType> types)
    {
        var data = new DnsNsecData(owner, types);
        if (data._types.Length > 0 && (ushort)data._types[^1] > 255)
        {
            throw new ArgumentException($"The mDNS form of NSEC only lists types below 256, not {(ushort)data._types[^1]}.", nameof(types));
        }

        return data;
    }

    /// <inheritdoc/>
    public bool Equals(DnsNsecData? other) =>
        other is not null && NextDomainName.Equals(other.NextDomainName) && _types.AsSpan().SequenceEqual(other._types);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(NextDomainName);
        foreach (DnsRecordType type in _types)
        {
            hash.Add(type);
        }

        return hash.ToHashCode();
    }
}
