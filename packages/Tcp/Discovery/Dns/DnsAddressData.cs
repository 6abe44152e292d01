using System.Net;
using System.Net.Sockets;

namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>A or AAAA data: one IPv4 or IPv6 address; the address family decides the record type.</summary>
internal sealed record DnsAddressData : DnsRecordData
{
    /// <summary>Initializes a new instance of the <see cref="DnsAddressData"/> class.</summary>
    /// <param name="address">An IPv4 address (A record) or IPv6 address (AAAA record). An IPv6 scope id is not
    /// sent.</param>
    /// <exception cref="ArgumentException">The address is neither IPv4 nor IPv6.</exception>
    public DnsAddressData(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"Only IPv4 and IPv6 addresses fit an A or AAAA record, not {address.AddressFamily}.", nameof(address));
        }

        Address = address;
    }

    /// <summary>Gets the address.</summary>
    public IPAddress Address { get; }

    /// <inheritdoc/>
    public override DnsRecordType Type =>
        Address.AddressFamily == AddressFamily.InterNetwork ? DnsRecordType.A : DnsRecordType.Aaaa;
}
