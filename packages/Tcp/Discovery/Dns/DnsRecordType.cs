namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>DNS resource record types (TYPE and QTYPE). Values not listed here are valid too.</summary>
internal enum DnsRecordType : ushort
{
    /// <summary>An IPv4 address (RFC 1035).</summary>
    A = 1,

    /// <summary>A domain name pointer (RFC 1035); DNS-SD's service type to instance link.</summary>
    Ptr = 12,

    /// <summary>Text strings (RFC 1035); DNS-SD's key=value attributes (RFC 6763 §6).</summary>
    Txt = 16,

    /// <summary>An IPv6 address (RFC 3596).</summary>
    Aaaa = 28,

    /// <summary>A service location (RFC 2782): priority, weight, port and target host.</summary>
    Srv = 33,

    /// <summary>The types that exist for a name (RFC 4034 §4; mDNS negative answers, RFC 6762 §6.1).</summary>
    Nsec = 47,

    /// <summary>Any type; in questions only (RFC 1035 QTYPE <c>*</c>).</summary>
    Any = 255,
}

/// <summary>Text forms of <see cref="DnsRecordType"/>.</summary>
internal static class DnsRecordTypeExtensions
{
    /// <summary>Returns the DNS mnemonic (<c>AAAA</c>, <c>SRV</c>) or, for types without one here, <c>TYPE</c> and
    /// the number (RFC 3597 §5).</summary>
    /// <param name="type">The type.</param>
    /// <returns>The mnemonic.</returns>
    public static string ToMnemonic(this DnsRecordType type) => type switch
    {
        DnsRecordType.A => "A",
        DnsRecordType.Ptr => "PTR",
        DnsRecordType.Txt => "TXT",
        DnsRecordType.Aaaa => "AAAA",
        DnsRecordType.Srv => "SRV",
        DnsRecordType.Nsec => "NSEC",
        DnsRecordType.Any => "ANY",
        _ => $"TYPE{(ushort)type}",
    };
}
