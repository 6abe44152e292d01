namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// DNS classes (CLASS and QCLASS) without the top bit, which mDNS uses for the unicast-response bit in questions
/// and the cache-flush bit in records (RFC 6762 §5.4 and §10.2). Values not listed here are valid too.
/// </summary>
internal enum DnsClass : ushort
{
    /// <summary>The Internet class, the only one mDNS uses.</summary>
    Internet = 1,

    /// <summary>Any class; in questions only.</summary>
    Any = 255,
}
