namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>A resource record of the answer, authority or additional section.</summary>
internal sealed record DnsRecord
{
    /// <summary>Gets the owner name.</summary>
    public required DnsName Name { get; init; }

    /// <summary>Gets the type, given by <see cref="Data"/>.</summary>
    public DnsRecordType Type => Data.Type;

    /// <summary>Gets the class, without the top bit.</summary>
    /// <remarks>Defaults to <see cref="DnsClass.Internet"/>. At most <c>0x7FFF</c>.</remarks>
    public DnsClass Class { get; init; } = DnsClass.Internet;

    /// <summary>Gets a value indicating whether receivers should replace what they cached for this name, type and
    /// class: the mDNS cache-flush bit, the top bit of CLASS (RFC 6762 §10.2). Set on unique records (SRV, TXT,
    /// A, AAAA), never on shared ones (PTR).</summary>
    public bool CacheFlush { get; init; }

    /// <summary>Gets the time to live in seconds; 0 in an mDNS goodbye (RFC 6762 §10.1).</summary>
    public required uint Ttl { get; init; }

    /// <summary>Gets the RDATA.</summary>
    public required DnsRecordData Data { get; init; }
}
