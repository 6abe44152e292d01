using System.Net.NetworkInformation;

namespace Ataraxia.Tcp.Discovery;

/// <summary>Settings of <see cref="MdnsDiscovery"/>, mDNS/DNS-SD discovery for the TCP transport.</summary>
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

    /// <summary>Gets the clock for probing, announcing, querying and record expiry.</summary>
    /// <remarks>Defaults to <see cref="TimeProvider.System"/>.</remarks>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the protocol delays (tests shorten them).</summary>
    internal MdnsTimings Timings { get; init; } = MdnsTimings.Default;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentOutOfRangeException.ThrowIfLessThan(HostRecordTtl, TimeSpan.FromSeconds(1), nameof(HostRecordTtl));
        ArgumentOutOfRangeException.ThrowIfLessThan(OtherRecordTtl, TimeSpan.FromSeconds(1), nameof(OtherRecordTtl));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(HostRecordTtl, TimeSpan.FromSeconds(int.MaxValue), nameof(HostRecordTtl));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(OtherRecordTtl, TimeSpan.FromSeconds(int.MaxValue), nameof(OtherRecordTtl));
        if (!UseIPv4 && !UseIPv6)
        {
            throw new ArgumentException("Use IPv4, IPv6 or both.", nameof(UseIPv4));
        }

        if (HostName is not null && (HostName.Length == 0 || HostName.Contains('.', StringComparison.Ordinal) || System.Text.Encoding.UTF8.GetByteCount(HostName) > 63))
        {
            throw new ArgumentException("The host name must be one DNS label (1 to 63 bytes, no dots, without .local).", nameof(HostName));
        }
    }
}
