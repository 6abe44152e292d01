using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Ataraxia.Tcp.Discovery;
using Microsoft.Extensions.Logging;

// The mDNS probe: runs MdnsSocketTransport in this process (the tests start it with `ip netns exec`, so every
// socket, interface list and network-change watch lives in the test's namespace) and speaks JSON lines.
//
// Arguments: --interfaces va,wa | v* (names, a trailing * matches a prefix; default: the transport's default filter)
//            --no-ipv4, --no-ipv6, --throwing-handler (an extra Received handler that always throws)
//            --hold-port exclusive|reuseaddr|reuseport (instead: bind 5353 on IPv4 and IPv6 with no address reuse,
//            only SO_REUSEADDR, or only SO_REUSEPORT, as other mDNS programs might, and hold it)
// Commands on stdin, one a line (the probe exits when stdin closes):
//   send <hex> [<ifindex>|-] [4|6|-]          multicast
//   unicast <hex> <address> <port> <ifindex>  unicast
//   interfaces                                report the interfaces in use
// Output on stdout: {"event":"started"|"start-failed"|"received"|"interfaces"|"sent"|"log"|"held"|"stopped", ...}
var output = new JsonLines();
string? names = null;
bool ipv4 = true, ipv6 = true, throwing = false;
string? hold = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--interfaces": names = args[++i]; break;
        case "--no-ipv4": ipv4 = false; break;
        case "--no-ipv6": ipv6 = false; break;
        case "--throwing-handler": throwing = true; break;
        case "--hold-port": hold = args[++i]; break;
        default: throw new ArgumentException($"Unknown argument {args[i]}.");
    }
}

if (hold is not null)
{
    using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = false };
    foreach (Socket socket in (Socket[])[v4, v6])
    {
        if (hold == "reuseaddr")
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        }
        else if (hold == "reuseport")
        {
            socket.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT on Linux */, BitConverter.GetBytes(1));
        }
    }

    v4.Bind(new IPEndPoint(IPAddress.Any, MdnsSocketTransport.Port));
    v6.Bind(new IPEndPoint(IPAddress.IPv6Any, MdnsSocketTransport.Port));
    output.Write(new { @event = "held" });
    while (await Console.In.ReadLineAsync() is not null)
    {
    }

    return 0;
}

Func<NetworkInterface, bool>? filter = names is null ? null : n => names.Split(',').Any(name =>
    name.EndsWith('*') ? n.Name.StartsWith(name[..^1], StringComparison.Ordinal) : n.Name == name);
var options = new MdnsDiscoveryOptions { InterfaceFilter = filter, UseIPv4 = ipv4, UseIPv6 = ipv6 };
await using var transport = new MdnsSocketTransport(options, new JsonLogger(output));
if (throwing)
{
    transport.Received += _ => throw new InvalidOperationException("A handler that always throws.");
}

transport.Received += packet => output.Write(new
{
    @event = "received",
    hex = Convert.ToHexString(packet.Data.Span),
    length = packet.Data.Length,
    source = packet.Source.Address.ToString(),
    port = packet.Source.Port,
    ifindex = packet.InterfaceIndex,
    family = packet.Family == AddressFamily.InterNetwork ? 4 : 6,
});
transport.InterfacesChanged += () => output.Write(new { @event = "interfaces", interfaces = Describe(transport.Interfaces) });
try
{
    await transport.StartAsync();
}
catch (InvalidOperationException ex)
{
    output.Write(new { @event = "start-failed", error = ex.Message });
    return 2;
}

output.Write(new { @event = "started", interfaces = Describe(transport.Interfaces) });
while (await Console.In.ReadLineAsync() is { } line)
{
    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (parts.Length == 0)
    {
        continue;
    }

    switch (parts[0])
    {
        case "send":
            byte[] packet = Convert.FromHexString(parts[1]);
            int? index = parts.Length > 2 && parts[2] != "-" ? int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) : null;
            AddressFamily? family = parts.Length > 3 && parts[3] != "-"
                ? parts[3] == "4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6
                : null;
            await transport.SendMulticastAsync(packet, index, family);
            output.Write(new { @event = "sent" });
            break;
        case "unicast":
            await transport.SendUnicastAsync(
                Convert.FromHexString(parts[1]),
                new IPEndPoint(IPAddress.Parse(parts[2]), int.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture)),
                int.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture));
            output.Write(new { @event = "sent" });
            break;
        case "interfaces":
            output.Write(new { @event = "interfaces", interfaces = Describe(transport.Interfaces) });
            break;
        default:
            output.Write(new { @event = "error", error = $"Unknown command {parts[0]}." });
            break;
    }
}

await transport.DisposeAsync();
output.Write(new { @event = "stopped" });
return 0;

static object[] Describe(IReadOnlyList<MdnsInterface> interfaces) =>
    [.. interfaces.Select(i => new { index = i.Index, name = i.Name, addresses = i.Addresses.Select(a => a.ToString()).ToArray() })];

/// <summary>Writes one JSON object per line to stdout, from any thread.</summary>
internal sealed class JsonLines
{
    private readonly Lock _gate = new();

    public void Write(object value)
    {
        string line = JsonSerializer.Serialize(value);
        lock (_gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}

/// <summary>Reports every log entry as a JSON line.</summary>
internal sealed class JsonLogger(JsonLines output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        output.Write(new { @event = "log", level = logLevel.ToString(), id = eventId.Id, message = formatter(state, exception), exception = exception?.Message });
}
