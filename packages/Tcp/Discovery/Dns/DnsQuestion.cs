namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>An entry of the question section.</summary>
internal sealed record DnsQuestion
{
    /// <summary>Gets the name asked about.</summary>
    public required DnsName Name { get; init; }

    /// <summary>Gets the type asked for (QTYPE).</summary>
    public required DnsRecordType Type { get; init; }

    /// <summary>Gets the class asked for, without the top bit (QCLASS).</summary>
    /// <remarks>Defaults to <see cref="DnsClass.Internet"/>. At most <c>0x7FFF</c>.</remarks>
    public DnsClass Class { get; init; } = DnsClass.Internet;

    /// <summary>Gets a value indicating whether the asker prefers a unicast reply: the mDNS QU bit, the top bit of
    /// QCLASS (RFC 6762 §5.4).</summary>
    public bool UnicastResponse { get; init; }
}
