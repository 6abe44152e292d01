using System.Net.NetworkInformation;

namespace Ataraxia.Tcp.Discovery;

/// <summary>Settings of mDNS/DNS-SD discovery for the TCP transport.</summary>
public sealed record MdnsDiscoveryOptions
{
    /// <summary>Gets a filter choosing the network interfaces to publish and browse on.</summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>: every interface that is up and supports multicast, loopback excluded.
    /// Interfaces that are down or cannot multicast are skipped whatever the filter says.
    /// </remarks>
    public Func<NetworkInterface, bool>? InterfaceFilter { get; init; }

    /// <summary>Gets a value indicating whether to use IPv4 (224.0.0.251).</summary>
    /// <remarks>Defaults to <see langword="true"/>.</remarks>
    public bool UseIPv4 { get; init; } = true;

    /// <summary>Gets a value indicating whether to use IPv6 (ff02::fb).</summary>
    /// <remarks>Defaults to <see langword="true"/>.</remarks>
    public bool UseIPv6 { get; init; } = true;

    /// <summary>Gets the host name published in SRV, A and AAAA records (without <c>.local</c>).</summary>
    /// <remarks>Defaults to <see langword="null"/>: the machine's host name.</remarks>
    public string? HostName { get; init; }

    /// <summary>Gets the TTL of records that name a host (SRV, A, AAAA).</summary>
    /// <remarks>Defaults to 120 seconds (RFC 6762 §10).</remarks>
    public TimeSpan HostRecordTtl { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Gets the TTL of other records (PTR, TXT).</summary>
    /// <remarks>Defaults to 75 minutes (RFC 6762 §10).</remarks>
    public TimeSpan OtherRecordTtl { get; init; } = TimeSpan.FromMinutes(75);

    /// <summary>Gets a value indicating whether to publish this node (if its transport listens).</summary>
    /// <remarks>Defaults to <see langword="true"/>.</remarks>
    public bool Publish { get; init; } = true;

    /// <summary>Gets a value indicating whether to browse for, and dial, other nodes.</summary>
    /// <remarks>Defaults to <see langword="true"/>.</remarks>
    public bool Browse { get; init; } = true;
}
