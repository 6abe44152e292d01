using System.Net;

namespace Ataraxia.Tcp.Discovery;

/// <summary>A node another mDNS responder publishes on the local network, as <see cref="MdnsDiscovery"/> sees it.</summary>
/// <param name="NodeId">The node id its instance name encodes, or <see langword="null"/> if the name is no node id.</param>
/// <param name="InstanceName">The full DNS-SD instance name, such as <c>wluWCJp6bvtVhn0yaaTeM._example-net._tcp.local</c>.</param>
/// <param name="Port">The TCP port from its SRV record.</param>
/// <param name="Addresses">
/// Its addresses, the one that would be dialled first (IPv6 link-local ones carry the scope id of the interface
/// they were seen on).
/// </param>
/// <param name="Security">
/// The <c>security</c> attribute of its TXT record (<c>tls</c> or <c>none</c>), or <see langword="null"/> when it
/// publishes none (as JavaScript nodes, which speak Noise, do).
/// </param>
/// <param name="IsCompatible">
/// Whether this transport can connect to it: its security matches this transport's and its name is a node id.
/// </param>
public sealed record MdnsPeer(NodeId? NodeId, string InstanceName, int Port, IReadOnlyList<IPAddress> Addresses, string? Security, bool IsCompatible);

/// <summary>Event data naming an mDNS peer.</summary>
/// <param name="peer">The peer.</param>
public sealed class MdnsPeerEventArgs(MdnsPeer peer) : EventArgs
{
    /// <summary>Gets the peer.</summary>
    public MdnsPeer Peer { get; } = peer;
}
