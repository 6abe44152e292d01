using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Discovery;

public sealed partial class MdnsDiscovery
{
    // The socket layer (MdnsSocketTransport) lands separately; until then the public constructor has no sockets.
    private static IMdnsTransport CreateSocketTransport(MdnsDiscoveryOptions options, ILogger logger) =>
        throw new PlatformNotSupportedException("mDNS sockets are not part of this build yet.");
}
