using System.Net;
using System.Net.Sockets;

namespace Ataraxia.Tcp.Discovery;

/// <summary>A datagram received on the mDNS port.</summary>
/// <param name="Data">The packet; valid only during the <see cref="IMdnsTransport.Received"/> call (copy to keep it).</param>
/// <param name="Source">The sender's address and port (5353 for multicast responders; another port means a legacy unicast query, RFC 6762 §6.7).</param>
/// <param name="InterfaceIndex">The index of the interface it arrived on (<see cref="MdnsInterface.Index"/>).</param>
internal readonly record struct MdnsPacket(ReadOnlyMemory<byte> Data, IPEndPoint Source, int InterfaceIndex)
{
    /// <summary>Gets the address family the packet arrived over.</summary>
    public AddressFamily Family => Source.AddressFamily;
}

/// <summary>One network interface mDNS runs on, with the addresses the responder publishes for it.</summary>
/// <param name="Index">The interface index (IPv4 and IPv6 share it).</param>
/// <param name="Name">The interface name, for logs.</param>
/// <param name="Addresses">Its unicast addresses in use (IPv4 and IPv6; IPv6 link-local with its scope id).</param>
internal sealed record MdnsInterface(int Index, string Name, IReadOnlyList<IPAddress> Addresses);

/// <summary>
/// The multicast layer under the mDNS responder and browser: sockets on port 5353 joined to 224.0.0.251 and
/// ff02::fb on each usable interface. The real one is <c>MdnsSocketTransport</c>; tests use an in-memory fabric.
/// </summary>
/// <remarks>
/// <see cref="Received"/> and <see cref="InterfacesChanged"/> are raised on the transport's own loop, one call at a
/// time; handlers must not block. Sends never throw for network errors (an interface that went away): they log
/// and drop.
/// </remarks>
internal interface IMdnsTransport : IAsyncDisposable
{
    /// <summary>Raised for every datagram received on any interface, including our own multicast looped back.</summary>
    event Action<MdnsPacket>? Received;

    /// <summary>Raised after the set of interfaces or their addresses changed (and sockets were added or removed).</summary>
    event Action? InterfacesChanged;

    /// <summary>Gets the interfaces in use now.</summary>
    IReadOnlyList<MdnsInterface> Interfaces { get; }

    /// <summary>Opens the sockets and starts receiving.</summary>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>A task that completes once the sockets are open.</returns>
    ValueTask StartAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends a packet to the mDNS multicast group(s) on one interface, or on every interface.</summary>
    /// <param name="packet">The DNS message.</param>
    /// <param name="interfaceIndex">The interface, or <see langword="null"/> for all.</param>
    /// <param name="family">Only this address family, or <see langword="null"/> for both.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the packet was handed to the sockets.</returns>
    ValueTask SendMulticastAsync(ReadOnlyMemory<byte> packet, int? interfaceIndex = null, AddressFamily? family = null, CancellationToken cancellationToken = default);

    /// <summary>Sends a packet to one address (a unicast reply, RFC 6762 §5.4 and §6.7).</summary>
    /// <param name="packet">The DNS message.</param>
    /// <param name="destination">The address and port to reply to.</param>
    /// <param name="interfaceIndex">The interface the question arrived on.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the packet was handed to the socket.</returns>
    ValueTask SendUnicastAsync(ReadOnlyMemory<byte> packet, IPEndPoint destination, int interfaceIndex, CancellationToken cancellationToken = default);
}
