using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Ataraxia.Tcp.Discovery;
using Ataraxia.Tcp.Discovery.Dns;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.Discovery;

/// <summary>One interface of a fabric member: its index on that member, the link it is attached to, its addresses.</summary>
internal sealed record FabricInterface(int Index, string Link, params IPAddress[] Addresses);

/// <summary>A packet a member received, and whether it came by unicast.</summary>
internal sealed record FabricPacket(DnsMessage? Message, MdnsPacket Packet, bool Unicast);

/// <summary>
/// An in-memory multicast network: a multicast packet reaches every member (the sender included, like
/// multicast loopback) that has an interface on the sender's link, an address of the family, and port 5353.
/// </summary>
internal sealed class MdnsFabric
{
    private readonly Lock _lock = new();
    private readonly List<FabricTransport> _members = [];

    public FabricTransport CreateMember(int port, params FabricInterface[] interfaces)
    {
        var member = new FabricTransport(this, port, interfaces);
        lock (_lock)
        {
            _members.Add(member);
        }

        return member;
    }

    public FabricTransport CreateMember(params FabricInterface[] interfaces) => CreateMember(5353, interfaces);

    internal void Multicast(FabricTransport sender, byte[] packet, int? interfaceIndex, AddressFamily? family)
    {
        FabricTransport[] members;
        lock (_lock)
        {
            members = [.. _members];
        }

        foreach (FabricInterface nic in sender.Interfaces.Where(i => interfaceIndex is null || i.Index == interfaceIndex))
        {
            foreach (IPAddress source in FamilyAddresses(nic, family))
            {
                foreach (FabricTransport receiver in members.Where(m => m.Port == 5353))
                {
                    foreach (FabricInterface theirs in receiver.Interfaces.Where(i => i.Link == nic.Link && i.Addresses.Any(a => a.AddressFamily == source.AddressFamily)))
                    {
                        receiver.Deliver(new MdnsPacket(packet, new IPEndPoint(source, sender.Port), theirs.Index), unicast: false);
                    }
                }
            }
        }
    }

    internal void Unicast(FabricTransport sender, byte[] packet, IPEndPoint destination, int interfaceIndex)
    {
        FabricTransport[] members;
        lock (_lock)
        {
            members = [.. _members];
        }

        FabricInterface? nic = sender.Interfaces.FirstOrDefault(i => i.Index == interfaceIndex);
        IPAddress? source = nic?.Addresses.FirstOrDefault(a => a.AddressFamily == destination.AddressFamily);
        if (nic is null || source is null)
        {
            return;
        }

        var bare = new IPAddress(destination.Address.GetAddressBytes());
        foreach (FabricTransport receiver in members.Where(m => m.Port == destination.Port))
        {
            foreach (FabricInterface theirs in receiver.Interfaces.Where(i => i.Link == nic.Link && i.Addresses.Any(a => new IPAddress(a.GetAddressBytes()).Equals(bare))))
            {
                receiver.Deliver(new MdnsPacket(packet, new IPEndPoint(source, sender.Port), theirs.Index), unicast: true);
            }
        }
    }

    private static IEnumerable<IPAddress> FamilyAddresses(FabricInterface nic, AddressFamily? family)
    {
        foreach (AddressFamily f in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            if ((family is null || family == f) && nic.Addresses.FirstOrDefault(a => a.AddressFamily == f) is { } address)
            {
                yield return address;
            }
        }
    }
}

/// <summary>A member of an <see cref="MdnsFabric"/>: what a discovery uses instead of sockets, or a test's raw querier.</summary>
internal sealed class FabricTransport : IMdnsTransport
{
    private readonly MdnsFabric _fabric;
    private readonly Channel<(MdnsPacket Packet, bool Unicast)> _inbox = Channel.CreateUnbounded<(MdnsPacket, bool)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentQueue<FabricPacket> _received = new();
    private volatile FabricInterface[] _interfaces;
    private Task? _loop;
    private volatile bool _detached;

    public FabricTransport(MdnsFabric fabric, int port, FabricInterface[] interfaces)
    {
        _fabric = fabric;
        Port = port;
        _interfaces = interfaces;
    }

    public event Action<MdnsPacket>? Received;

    public event Action? InterfacesChanged;

    public int Port { get; }

    public IReadOnlyList<FabricInterface> Interfaces => _interfaces;

    /// <summary>Every packet received so far, decoded when it could be.</summary>
    public IReadOnlyCollection<FabricPacket> ReceivedPackets => _received;

    public bool IsDisposed { get; private set; }

    IReadOnlyList<MdnsInterface> IMdnsTransport.Interfaces =>
        [.. _interfaces.Select(i => new MdnsInterface(i.Index, i.Link, i.Addresses))];

    /// <summary>Cuts the member off without a goodbye, as if its host vanished.</summary>
    public void Detach() => _detached = true;

    public void SetInterfaces(params FabricInterface[] interfaces)
    {
        _interfaces = interfaces;
        InterfacesChanged?.Invoke();
    }

    public ValueTask StartAsync(CancellationToken cancellationToken = default)
    {
        _loop ??= Task.Run(async () =>
        {
            await foreach ((MdnsPacket packet, bool unicast) in _inbox.Reader.ReadAllAsync())
            {
                DnsMessage? message = null;
                try
                {
                    message = DnsMessageReader.Read(packet.Data.Span);
                }
                catch (DnsFormatException)
                {
                }

                _received.Enqueue(new FabricPacket(message, packet, unicast));
                Received?.Invoke(packet);
            }
        }, CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    public ValueTask SendMulticastAsync(ReadOnlyMemory<byte> packet, int? interfaceIndex = null, AddressFamily? family = null, CancellationToken cancellationToken = default)
    {
        if (!_detached && !IsDisposed)
        {
            _fabric.Multicast(this, packet.ToArray(), interfaceIndex, family);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask SendMulticastAsync(DnsMessage message) => SendMulticastAsync(DnsMessageWriter.ToArray(message));

    public ValueTask SendUnicastAsync(ReadOnlyMemory<byte> packet, IPEndPoint destination, int interfaceIndex, CancellationToken cancellationToken = default)
    {
        if (!_detached && !IsDisposed)
        {
            _fabric.Unicast(this, packet.ToArray(), destination, interfaceIndex);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Waits for a received packet matching the condition (among those already received too).</summary>
    public async Task<FabricPacket> WaitForAsync(Func<FabricPacket, bool> condition)
    {
        FabricPacket? found = null;
        await TaskTimeoutExtensions.WaitUntilAsync(() => (found = _received.FirstOrDefault(p => p.Message is not null && condition(p))) is not null);
        return found!;
    }

    public void Clear() => _received.Clear();

    public async ValueTask DisposeAsync()
    {
        IsDisposed = true;
        _inbox.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    internal void Deliver(MdnsPacket packet, bool unicast)
    {
        if (!_detached && !IsDisposed)
        {
            _inbox.Writer.TryWrite((packet, unicast));
        }
    }
}
