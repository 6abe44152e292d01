using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Internal;

/// <summary>Log messages of the TCP package. Event ids 100–199 belong to it; they are never renumbered.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "TCP transport listening on {EndPoint} ({Security}).")]
    public static partial void Listening(ILogger logger, EndPoint endPoint, string security);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Refused connection from {Remote}: {Why}.")]
    public static partial void Refused(ILogger logger, EndPoint? remote, string why);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Connection {Connection} failed before it was authenticated.")]
    public static partial void HandshakeFailed(ILogger logger, string connection, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Could not connect to {Peer} at {Address}: {Error}")]
    public static partial void ConnectFailed(ILogger logger, DnsEndPoint peer, IPAddress address, string error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Peer {Peer} rejected authentication (or was rejected); retrying with back-off. Check that both sides share the same secret.")]
    public static partial void AuthenticationRejected(ILogger logger, DnsEndPoint peer, Exception exception);

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "Reconnecting to {Peer} in {Delay}.")]
    public static partial void Backoff(ILogger logger, DnsEndPoint peer, TimeSpan delay);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Closing duplicate connection {Connection} to node {Node}; keeping the one the lower node id opened.")]
    public static partial void DuplicateClosed(ILogger logger, string connection, NodeId node);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Could not resolve {Host}: {Error}")]
    public static partial void ResolveFailed(ILogger logger, string host, string error);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "TCP transport runs WITHOUT TLS: traffic and authentication are in the clear and not bound to the channel.")]
    public static partial void Plaintext(ILogger logger);

    // mDNS socket layer (MdnsSocketTransport): ids 150–169.
    [LoggerMessage(EventId = 150, Level = LogLevel.Debug, Message = "mDNS socket open on {EndPoint} (address reuse: {Reuse}).")]
    public static partial void MdnsSocketOpened(ILogger logger, EndPoint endPoint, string reuse);

    [LoggerMessage(EventId = 151, Level = LogLevel.Error, Message = "mDNS could not bind UDP port 5353 over {Family}: {Error}. Another program holds the port without address reuse (SO_REUSEADDR/SO_REUSEPORT); mDNS responders such as avahi-daemon and Bonjour share it, so look for one that does not.")]
    public static partial void MdnsBindFailed(ILogger logger, string family, SocketError error);

    [LoggerMessage(EventId = 152, Level = LogLevel.Warning, Message = "mDNS over {Family} is unavailable on this host and is skipped: {Error}.")]
    public static partial void MdnsFamilyUnavailable(ILogger logger, string family, SocketError error);

    [LoggerMessage(EventId = 153, Level = LogLevel.Debug, Message = "mDNS joined {Group} on {Interface} (index {Index}).")]
    public static partial void MdnsJoined(ILogger logger, IPAddress group, string @interface, int index);

    [LoggerMessage(EventId = 154, Level = LogLevel.Debug, Message = "mDNS could not join {Group} on {Interface} (index {Index}): {Error}; the interface is not used for this address family.")]
    public static partial void MdnsJoinFailed(ILogger logger, IPAddress group, string @interface, int index, SocketError error);

    [LoggerMessage(EventId = 155, Level = LogLevel.Debug, Message = "mDNS left {Group} on interface index {Index}.")]
    public static partial void MdnsLeft(ILogger logger, IPAddress group, int index);

    [LoggerMessage(EventId = 156, Level = LogLevel.Information, Message = "mDNS runs on {Interfaces}.")]
    public static partial void MdnsInterfaces(ILogger logger, string interfaces);

    [LoggerMessage(EventId = 157, Level = LogLevel.Debug, Message = "mDNS send to {Destination} on interface index {Index} failed: {Error}; dropped.")]
    public static partial void MdnsSendFailed(ILogger logger, IPEndPoint destination, int index, SocketError error);

    [LoggerMessage(EventId = 158, Level = LogLevel.Debug, Message = "mDNS receive over {Family} failed: {Error}.")]
    public static partial void MdnsReceiveFailed(ILogger logger, string family, SocketError error);

    [LoggerMessage(EventId = 159, Level = LogLevel.Debug, Message = "Dropped an mDNS packet from {Source} larger than {Limit} bytes.")]
    public static partial void MdnsPacketTooLarge(ILogger logger, EndPoint? source, int limit);

    [LoggerMessage(EventId = 160, Level = LogLevel.Warning, Message = "An mDNS {Event} handler threw; the transport carries on.")]
    public static partial void MdnsHandlerFailed(ILogger logger, string @event, Exception exception);

    [LoggerMessage(EventId = 161, Level = LogLevel.Warning, Message = "mDNS could not list the network interfaces: {Error}")]
    public static partial void MdnsInterfaceScanFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 162, Level = LogLevel.Warning, Message = "The mDNS interface filter threw for {Interface}; the interface is skipped.")]
    public static partial void MdnsInterfaceFilterFailed(ILogger logger, string @interface, Exception exception);

    [LoggerMessage(EventId = 163, Level = LogLevel.Debug, Message = "mDNS could not set {Option} on the {Family} socket: {Error}.")]
    public static partial void MdnsSocketOptionFailed(ILogger logger, string option, string family, SocketError error);

    [LoggerMessage(EventId = 164, Level = LogLevel.Debug, Message = "mDNS dropped a packet that arrived on interface index {Index}, which it does not use.")]
    public static partial void MdnsForeignInterface(ILogger logger, int index);

    [LoggerMessage(EventId = 165, Level = LogLevel.Warning, Message = "mDNS found no usable interface (up, multicast-capable, chosen by the filter); it waits for one to appear.")]
    public static partial void MdnsNoInterfaces(ILogger logger);

    [LoggerMessage(EventId = 166, Level = LogLevel.Debug, Message = "mDNS {Family} receive loop did not stop within {Timeout}.")]
    public static partial void MdnsStopTimedOut(ILogger logger, string family, TimeSpan timeout);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "mDNS discovery started for {ServiceType}: publishing {Instance}, browsing {Browsing}.")]
    public static partial void MdnsStarted(ILogger logger, string serviceType, string instance, bool browsing);

    [LoggerMessage(EventId = 111, Level = LogLevel.Debug, Message = "Ignored a malformed mDNS packet from {Source}: {Error}")]
    public static partial void MdnsMalformed(ILogger logger, IPEndPoint source, string error);

    [LoggerMessage(EventId = 112, Level = LogLevel.Warning, Message = "Another responder claims the mDNS name {Name}; probing again as {NewName}.")]
    public static partial void MdnsConflict(ILogger logger, string name, string newName);

    [LoggerMessage(EventId = 113, Level = LogLevel.Debug, Message = "mDNS simultaneous probe for {Name} lost the tie-break; probing again in a second.")]
    public static partial void MdnsProbeTieLost(ILogger logger, Ataraxia.Tcp.Discovery.Dns.DnsName name);

    [LoggerMessage(EventId = 114, Level = LogLevel.Debug, Message = "mDNS name {Name} probed; announcing.")]
    public static partial void MdnsAnnouncing(ILogger logger, Ataraxia.Tcp.Discovery.Dns.DnsName name);

    [LoggerMessage(EventId = 115, Level = LogLevel.Debug, Message = "Found peer {Instance} on port {Port} at {Addresses} (security {Security}).")]
    public static partial void MdnsPeerFound(ILogger logger, string instance, int port, string addresses, string security);

    [LoggerMessage(EventId = 116, Level = LogLevel.Information, Message = "Found peer {Instance} via mDNS, but it does not speak this transport's security ({Security}; this transport speaks {Local}): not connecting to it.")]
    public static partial void MdnsPeerIncompatible(ILogger logger, string instance, string security, string local);

    [LoggerMessage(EventId = 117, Level = LogLevel.Debug, Message = "Lost peer {Instance}.")]
    public static partial void MdnsPeerLost(ILogger logger, string instance);

    [LoggerMessage(EventId = 118, Level = LogLevel.Debug, Message = "Connecting to discovered node {Node} at {EndPoint}.")]
    public static partial void MdnsDialing(ILogger logger, NodeId node, DnsEndPoint endPoint);

    [LoggerMessage(EventId = 119, Level = LogLevel.Warning, Message = "An mDNS discovery event handler failed.")]
    public static partial void MdnsHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 120, Level = LogLevel.Warning, Message = "mDNS discovery failed to handle {What}; continuing.")]
    public static partial void MdnsStepFailed(ILogger logger, string what, Exception exception);

    [LoggerMessage(EventId = 121, Level = LogLevel.Debug, Message = "Dropped an mDNS packet from {Source}: the receive queue is full.")]
    public static partial void MdnsQueueFull(ILogger logger, IPEndPoint source);

    [LoggerMessage(EventId = 122, Level = LogLevel.Debug, Message = "Sending mDNS goodbye for {Name}.")]
    public static partial void MdnsGoodbye(ILogger logger, Ataraxia.Tcp.Discovery.Dns.DnsName name);

    [LoggerMessage(EventId = 123, Level = LogLevel.Debug, Message = "mDNS peer {Instance} has an instance name that is no node id; listing it without connecting.")]
    public static partial void MdnsPeerNotNode(ILogger logger, string instance);
}
