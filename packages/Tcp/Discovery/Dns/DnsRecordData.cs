namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// The RDATA of a resource record. The concrete type decides the record's <see cref="Type"/>, so the two can never
/// disagree: <see cref="DnsPtrData"/>, <see cref="DnsSrvData"/>, <see cref="DnsTxtData"/>, <see cref="DnsAddressData"/>
/// (A or AAAA), <see cref="DnsNsecData"/>, and <see cref="DnsUnknownData"/> for everything else.
/// </summary>
internal abstract record DnsRecordData
{
    /// <summary>Gets the record type this data belongs to.</summary>
    public abstract DnsRecordType Type { get; }
}

/// <summary>PTR data (RFC 1035 §3.3.12): in DNS-SD, the service type's pointer to one instance.</summary>
/// <param name="Target">The name pointed to.</param>
internal sealed record DnsPtrData(DnsName Target) : DnsRecordData
{
    /// <inheritdoc/>
    public override DnsRecordType Type => DnsRecordType.Ptr;
}

/// <summary>SRV data (RFC 2782): where an instance is served.</summary>
/// <param name="Priority">Lower is tried first.</param>
/// <param name="Weight">Relative weight among targets of equal priority.</param>
/// <param name="Port">The TCP or UDP port.</param>
/// <param name="Target">The host name, resolved through its A and AAAA records.</param>
internal sealed record DnsSrvData(ushort Priority, ushort Weight, ushort Port, DnsName Target) : DnsRecordData
{
    /// <inheritdoc/>
    public override DnsRecordType Type => DnsRecordType.Srv;
}
