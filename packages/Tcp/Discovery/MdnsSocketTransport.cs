using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Threading.Channels;
using Ataraxia.Tcp.Internal;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Discovery;

/// <summary>
/// The real mDNS multicast layer (RFC 6762): one UDP socket per address family on port 5353, joined to
/// 224.0.0.251 and ff02::fb on each chosen interface.
/// </summary>
/// <remarks>
/// <para>
/// Design: one socket per address family, bound to the wildcard address and port 5353, rather than a socket per
/// interface. The arriving interface comes from IP_PKTINFO / IPV6_PKTINFO
/// (<see cref="Socket.ReceiveMessageFromAsync(Memory{byte}, SocketFlags, EndPoint, CancellationToken)"/>); a
/// multicast send picks its interface with IP_MULTICAST_IF / IPV6_MULTICAST_IF, set under a per-socket gate just
/// before the send (and, for IPv6, the scope id of ff02::fb). A socket per interface would need one bound to the
/// wildcard address anyway (Linux delivers multicast to every socket bound to the port, whatever address it is
/// bound to), and unicast replies to port 5353 reach only one of several sockets sharing the port, so extra sockets
/// per interface would swallow them.
/// </para>
/// <para>
/// The sockets set SO_REUSEADDR and, on Linux, SO_REUSEPORT before binding, so they share port 5353 with
/// avahi-daemon, Bonjour and other instances on the host (whichever of the two the other program sets); every
/// socket on the port receives every multicast packet. On Linux IP_MULTICAST_ALL / IPV6_MULTICAST_ALL are off, so
/// a socket receives the groups only on the interfaces it joined, not those joined by others; packets that still
/// arrive on an interface not in use (unicast, other systems) are dropped here, so the interface filter holds for
/// both sending and receiving.
/// </para>
/// <para>
/// Multicast loopback is on: other processes on this host see our packets, and so do we (<see cref="Received"/>
/// reports our own multicast, with our address as the source). Multicast TTL / hop limit and unicast TTL are 255
/// (RFC 6762 §11). Packets larger than <see cref="MaxPacketSize"/> bytes are dropped.
/// </para>
/// <para>
/// When addresses or links change (<see cref="NetworkChange"/>), the interfaces are scanned again after a quiet
/// second: new ones are joined, gone ones left, and <see cref="InterfacesChanged"/> is raised if the list changed.
/// </para>
/// </remarks>
internal sealed class MdnsSocketTransport : IMdnsTransport
{
    /// <summary>The mDNS UDP port.</summary>
    public const int Port = 5353;

    /// <summary>The largest packet (UDP payload) received; larger ones are dropped (RFC 6762 §17).</summary>
    public const int MaxPacketSize = 9000;

    // Linux socket option numbers .NET has no names for.
    private const int SolSocket = 1;
    private const int SoReusePort = 15;
    private const int IPProtoIP = 0;
    private const int IPMulticastIf = 32;
    private const int IPMulticastAll = 49;
    private const int IPProtoIPv6 = 41;
    private const int IPv6MulticastAll = 29;

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly MdnsDiscoveryOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _stateLock = new();
    private readonly Lock _dispatchLock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<bool> _changes =
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly List<Task> _loops = [];
    private FamilySocket? _ipv4;
    private FamilySocket? _ipv6;
    private IReadOnlyList<MdnsInterface> _interfaces = [];
    private int _state; // 0 new, 1 starting or started, 2 disposed

    /// <summary>Initializes a new instance of the <see cref="MdnsSocketTransport"/> class.</summary>
    /// <param name="options">The interface filter and address families to use.</param>
    /// <param name="logger">Where to log.</param>
    public MdnsSocketTransport(MdnsDiscoveryOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _logger = logger;
    }

    /// <inheritdoc/>
    public event Action<MdnsPacket>? Received;

    /// <inheritdoc/>
    public event Action? InterfacesChanged;

    /// <inheritdoc/>
    public IReadOnlyList<MdnsInterface> Interfaces => Volatile.Read(ref _interfaces);

    /// <summary>Gets how long the transport waits after a network change before it scans the interfaces.</summary>
    /// <remarks>Defaults to one second, so a burst of changes (a link coming up with several addresses) is one scan.</remarks>
    internal TimeSpan ChangeDebounce { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The default interface filter: up, multicast-capable and not loopback.</summary>
    /// <param name="networkInterface">The interface.</param>
    /// <returns>Whether to use it.</returns>
    public static bool DefaultInterfaceFilter(NetworkInterface networkInterface)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        return IsUsable(networkInterface) && networkInterface.NetworkInterfaceType != NetworkInterfaceType.Loopback;
    }

    /// <inheritdoc/>
    public async ValueTask StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _state) == 2, this);
        if (!_options.UseIPv4 && !_options.UseIPv6)
        {
            throw new InvalidOperationException("mDNS needs IPv4 or IPv6; both are turned off in the options.");
        }

        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The mDNS transport was started already.");
        }

        try
        {
            // Binding and listing interfaces are blocking system calls.
            await Task.Run(OpenAll, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.CompareExchange(ref _state, 0, 1);
            throw;
        }

        lock (_stateLock)
        {
            if (_stop.IsCancellationRequested)
            {
                // Disposed while starting: DisposeAsync may have run before the sockets existed.
                _ipv4?.Socket.Dispose();
                _ipv6?.Socket.Dispose();
                throw new ObjectDisposedException(GetType().FullName);
            }

            foreach (FamilySocket? family in (FamilySocket?[])[_ipv4, _ipv6])
            {
                if (family is not null)
                {
                    _loops.Add(Task.Run(() => ReceiveLoopAsync(family), CancellationToken.None));
                }
            }

            _loops.Add(Task.Run(WatchChangesAsync, CancellationToken.None));
        }
    }

    private void OpenAll()
    {
        try
        {
            if (_options.UseIPv4)
            {
                _ipv4 = Open(AddressFamily.InterNetwork);
            }

            if (_options.UseIPv6)
            {
                _ipv6 = Open(AddressFamily.InterNetworkV6);
            }

            if (_ipv4 is null && _ipv6 is null)
            {
                throw new InvalidOperationException("mDNS could not open a UDP socket for IPv4 or IPv6 on this host.");
            }

            NetworkChange.NetworkAddressChanged += OnNetworkChanged;
            NetworkChange.NetworkAvailabilityChanged += OnNetworkChanged;
            Rescan();
            if (Interfaces.Count == 0)
            {
                Log.MdnsNoInterfaces(_logger);
            }
        }
        catch
        {
            NetworkChange.NetworkAddressChanged -= OnNetworkChanged;
            NetworkChange.NetworkAvailabilityChanged -= OnNetworkChanged;
            _ipv4?.Socket.Dispose();
            _ipv6?.Socket.Dispose();
            _ipv4 = null;
            _ipv6 = null;
            throw;
        }
    }

    /// <inheritdoc/>
    public async ValueTask SendMulticastAsync(ReadOnlyMemory<byte> packet, int? interfaceIndex = null, AddressFamily? family = null, CancellationToken cancellationToken = default)
    {
        ThrowIfNotRunning();
        foreach (FamilySocket? socket in (FamilySocket?[])[_ipv4, _ipv6])
        {
            if (socket is null || (family is { } only && only != socket.Family))
            {
                continue;
            }

            int[] targets;
            lock (_stateLock)
            {
                targets = interfaceIndex is { } index
                    ? socket.Joined.Contains(index) ? [index] : []
                    : [.. socket.Joined];
            }

            if (interfaceIndex is { } requested && targets.Length == 0)
            {
                // The interface went away (or never had this family); the next rescan tells the caller.
                Log.MdnsSendFailed(_logger, socket.GroupEndPoint, requested, SocketError.AddressNotAvailable);
            }

            foreach (int index in targets)
            {
                await SendToGroupAsync(socket, packet, index, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask SendUnicastAsync(ReadOnlyMemory<byte> packet, IPEndPoint destination, int interfaceIndex, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ThrowIfNotRunning();
        IPAddress address = destination.Address.IsIPv4MappedToIPv6 ? destination.Address.MapToIPv4() : destination.Address;
        FamilySocket? socket = address.AddressFamily == AddressFamily.InterNetwork ? _ipv4 : _ipv6;
        if (address.IsIPv6LinkLocal && address.ScopeId == 0)
        {
            // A link-local address means nothing without its link: the one the question arrived on.
            address = new IPAddress(address.GetAddressBytes(), interfaceIndex);
        }

        var target = new IPEndPoint(address, destination.Port);
        if (socket is null)
        {
            Log.MdnsSendFailed(_logger, target, interfaceIndex, SocketError.AddressFamilyNotSupported);
            return;
        }

        try
        {
            await socket.Socket.SendToAsync(packet, SocketFlags.None, target, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            Log.MdnsSendFailed(_logger, target, interfaceIndex, ex.SocketErrorCode);
        }
        catch (ObjectDisposedException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) == 2)
        {
            return;
        }

        NetworkChange.NetworkAddressChanged -= OnNetworkChanged;
        NetworkChange.NetworkAvailabilityChanged -= OnNetworkChanged;
        await _stop.CancelAsync().ConfigureAwait(false);
        _changes.Writer.TryComplete();
        Task[] loops;
        lock (_stateLock)
        {
            _ipv4?.Socket.Dispose();
            _ipv6?.Socket.Dispose();
            loops = [.. _loops];
        }

        try
        {
            await Task.WhenAll(loops).WaitAsync(StopTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.MdnsStopTimedOut(_logger, "any", StopTimeout);
        }

        _stop.Dispose();
    }

    private static bool IsUsable(NetworkInterface networkInterface) =>
        networkInterface.SupportsMulticast
        && networkInterface.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown;

    private static string FamilyName(AddressFamily family) => family == AddressFamily.InterNetwork ? "IPv4" : "IPv6";

    private static int InterfaceIndex(IPInterfaceProperties properties)
    {
        try
        {
            if (properties.GetIPv4Properties() is { } ipv4)
            {
                return ipv4.Index;
            }
        }
        catch (NetworkInformationException)
        {
        }

        try
        {
            return properties.GetIPv6Properties()?.Index ?? -1;
        }
        catch (NetworkInformationException)
        {
            return -1;
        }
    }

    private void ThrowIfNotRunning()
    {
        int state = Volatile.Read(ref _state);
        ObjectDisposedException.ThrowIf(state == 2, this);
        if (state == 0)
        {
            throw new InvalidOperationException("The mDNS transport is not started.");
        }
    }

    private FamilySocket? Open(AddressFamily family)
    {
        string name = FamilyName(family);
        Socket socket;
        try
        {
            socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        }
        catch (SocketException ex)
        {
            Log.MdnsFamilyUnavailable(_logger, name, ex.SocketErrorCode);
            return null;
        }

        try
        {
            bool ipv4 = family == AddressFamily.InterNetwork;
            SocketOptionLevel level = ipv4 ? SocketOptionLevel.IP : SocketOptionLevel.IPv6;

            // Share port 5353 with avahi-daemon, Bonjour and other instances; must come before Bind.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            string reuse = "SO_REUSEADDR";
            if (OperatingSystem.IsLinux())
            {
                // Linux lets sockets share a port when all set SO_REUSEADDR, or all set SO_REUSEPORT (same user):
                // setting both coexists with programs that set either.
                if (TrySetRaw(socket, name, "SO_REUSEPORT", SolSocket, SoReusePort, 1))
                {
                    reuse += ", SO_REUSEPORT";
                }

                // Receive a group only on the interfaces this socket joined, not on those another socket joined.
                _ = ipv4
                    ? TrySetRaw(socket, name, "IP_MULTICAST_ALL", IPProtoIP, IPMulticastAll, 0)
                    : TrySetRaw(socket, name, "IPV6_MULTICAST_ALL", IPProtoIPv6, IPv6MulticastAll, 0);
            }

            if (!ipv4)
            {
                socket.DualMode = false;
            }

            socket.SetSocketOption(level, SocketOptionName.PacketInformation, true);
            socket.SetSocketOption(level, SocketOptionName.MulticastTimeToLive, 255);
            socket.MulticastLoopback = true;
            socket.Ttl = 255;
            var endPoint = new IPEndPoint(ipv4 ? IPAddress.Any : IPAddress.IPv6Any, Port);
            try
            {
                socket.Bind(endPoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
                Log.MdnsBindFailed(_logger, name, ex.SocketErrorCode);
                throw new InvalidOperationException(
                    $"mDNS could not bind UDP port {Port} over {name} ({ex.SocketErrorCode}): another program holds the port without address reuse (SO_REUSEADDR/SO_REUSEPORT). mDNS responders such as avahi-daemon and Bonjour share the port; stop the one that does not, or turn discovery off.",
                    ex);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported)
            {
                // IPv6 turned off (disable_ipv6) still lets the socket be created.
                Log.MdnsFamilyUnavailable(_logger, name, ex.SocketErrorCode);
                socket.Dispose();
                return null;
            }

            Log.MdnsSocketOpened(_logger, endPoint, reuse);
            return new FamilySocket(socket, family);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private bool TrySetRaw(Socket socket, string family, string option, int level, int name, int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(bytes, value); // a C int, in the machine's byte order

        try
        {
            socket.SetRawSocketOption(level, name, bytes);
            return true;
        }
        catch (SocketException ex)
        {
            Log.MdnsSocketOptionFailed(_logger, option, family, ex.SocketErrorCode);
            return false;
        }
    }

    private async ValueTask SendToGroupAsync(FamilySocket socket, ReadOnlyMemory<byte> packet, int index, CancellationToken cancellationToken)
    {
        bool ipv4 = socket.Family == AddressFamily.InterNetwork;
        var destination = ipv4
            ? socket.GroupEndPoint
            : new IPEndPoint(new IPAddress(socket.Group.GetAddressBytes(), index), Port);
        await socket.SendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The outgoing interface is a socket-wide option, so set-and-send happen under the gate.
            if (socket.MulticastInterface != index)
            {
                SetMulticastInterface(socket, index);
                socket.MulticastInterface = index;
            }

            await socket.Socket.SendToAsync(packet, SocketFlags.None, destination, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.MulticastInterface = -1;
            Log.MdnsSendFailed(_logger, destination, index, ex.SocketErrorCode);
        }
        catch (ObjectDisposedException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            socket.SendGate.Release();
        }
    }

    private static void SetMulticastInterface(FamilySocket socket, int index)
    {
        if (socket.Family == AddressFamily.InterNetworkV6)
        {
            socket.Socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, index);
        }
        else if (OperatingSystem.IsLinux())
        {
            // struct ip_mreqn { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; }: by index, so an
            // interface is chosen even when several share an address.
            Span<byte> mreqn = stackalloc byte[12];
            mreqn.Clear();
            BitConverter.TryWriteBytes(mreqn[8..], index);

            socket.Socket.SetRawSocketOption(IPProtoIP, IPMulticastIf, mreqn);
        }
        else
        {
            // Windows (and the .NET abstraction elsewhere) take an index in network byte order as 0.0.0.x.
            socket.Socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.HostToNetworkOrder(index));
        }
    }

    private async Task ReceiveLoopAsync(FamilySocket socket)
    {
        string name = FamilyName(socket.Family);

        // One byte more than the limit, to tell a packet of exactly the limit from a larger one cut short.
        byte[] buffer = new byte[MaxPacketSize + 1];
        EndPoint any = new IPEndPoint(socket.Family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        CancellationToken stopping = _stop.Token;
        while (!stopping.IsCancellationRequested)
        {
            SocketReceiveMessageFromResult result;
            try
            {
                result = await socket.Socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, any, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (ObjectDisposedException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.MessageSize)
            {
                Log.MdnsPacketTooLarge(_logger, null, MaxPacketSize);
                continue;
            }
            catch (SocketException ex)
            {
                // ICMP errors from earlier sends (connection reset), a vanished interface: carry on.
                Log.MdnsReceiveFailed(_logger, name, ex.SocketErrorCode);
                continue;
            }

            if (result.ReceivedBytes > MaxPacketSize || (result.SocketFlags & SocketFlags.Truncated) != 0)
            {
                Log.MdnsPacketTooLarge(_logger, result.RemoteEndPoint, MaxPacketSize);
                continue;
            }

            int index = result.PacketInformation.Interface;
            bool inUse;
            lock (_stateLock)
            {
                inUse = socket.Joined.Contains(index);
            }

            if (!inUse)
            {
                Log.MdnsForeignInterface(_logger, index);
                continue;
            }

            var source = (IPEndPoint)result.RemoteEndPoint;
            if (source.Address.IsIPv6LinkLocal && source.Address.ScopeId == 0)
            {
                source = new IPEndPoint(new IPAddress(source.Address.GetAddressBytes(), index), source.Port);
            }

            Dispatch(new MdnsPacket(buffer.AsMemory(0, result.ReceivedBytes), source, index));
        }
    }

    private void Dispatch(MdnsPacket packet)
    {
        lock (_dispatchLock)
        {
            if (_stop.IsCancellationRequested || Received is not { } handlers)
            {
                return;
            }

            foreach (Action<MdnsPacket> handler in handlers.GetInvocationList().Cast<Action<MdnsPacket>>())
            {
                try
                {
                    handler(packet);
                }
#pragma warning disable CA1031 // A handler's failure must never end the receive loop.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.MdnsHandlerFailed(_logger, nameof(Received), ex);
                }
            }
        }
    }

    private void DispatchInterfacesChanged()
    {
        lock (_dispatchLock)
        {
            if (_stop.IsCancellationRequested || InterfacesChanged is not { } handlers)
            {
                return;
            }

            foreach (Action handler in handlers.GetInvocationList().Cast<Action>())
            {
                try
                {
                    handler();
                }
#pragma warning disable CA1031 // A handler's failure must never end the change loop.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.MdnsHandlerFailed(_logger, nameof(InterfacesChanged), ex);
                }
            }
        }
    }

    private void OnNetworkChanged(object? sender, EventArgs e) => _changes.Writer.TryWrite(true);

    private async Task WatchChangesAsync()
    {
        CancellationToken stopping = _stop.Token;
        try
        {
            while (await _changes.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                // Let a burst of changes settle, then scan once for all of them.
                await Task.Delay(ChangeDebounce, stopping).ConfigureAwait(false);
                while (_changes.Reader.TryRead(out _))
                {
                }

                if (Rescan())
                {
                    DispatchInterfacesChanged();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Lists the chosen interfaces, joins and leaves the groups to match, and updates <see cref="Interfaces"/>.</summary>
    /// <returns>Whether <see cref="Interfaces"/> changed.</returns>
    private bool Rescan()
    {
        NetworkInterface[] all;
        try
        {
            all = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException ex)
        {
            Log.MdnsInterfaceScanFailed(_logger, ex.Message);
            return false;
        }

        Func<NetworkInterface, bool> filter = _options.InterfaceFilter ?? DefaultInterfaceFilter;
        var chosen = new List<(int Index, string Name, List<IPAddress> IPv4, List<IPAddress> IPv6)>();
        foreach (NetworkInterface networkInterface in all)
        {
            // Down or multicast-less interfaces are skipped whatever the filter says.
            if (!IsUsable(networkInterface) || !Chosen(filter, networkInterface))
            {
                continue;
            }

            IPInterfaceProperties properties;
            try
            {
                properties = networkInterface.GetIPProperties();
            }
            catch (NetworkInformationException)
            {
                continue;
            }

            int index = InterfaceIndex(properties);
            if (index <= 0)
            {
                continue;
            }

            var ipv4 = new List<IPAddress>();
            var ipv6 = new List<IPAddress>();
            foreach (UnicastIPAddressInformation unicast in properties.UnicastAddresses)
            {
                IPAddress address = unicast.Address;
                if (address.AddressFamily == AddressFamily.InterNetwork && _options.UseIPv4)
                {
                    ipv4.Add(address);
                }
                else if (address.AddressFamily == AddressFamily.InterNetworkV6 && _options.UseIPv6)
                {
                    ipv6.Add(address.IsIPv6LinkLocal && address.ScopeId == 0 ? new IPAddress(address.GetAddressBytes(), index) : address);
                }
            }

            chosen.Add((index, networkInterface.Name, ipv4, ipv6));
        }

        lock (_stateLock)
        {
            if (_stop.IsCancellationRequested)
            {
                return false;
            }

            // A family runs on an interface that has an address of that family to send from.
            if (_ipv4 is not null)
            {
                Reconcile(_ipv4, chosen.Where(c => c.IPv4.Count > 0).Select(c => (c.Index, c.Name)));
            }

            if (_ipv6 is not null)
            {
                Reconcile(_ipv6, chosen.Where(c => c.IPv6.Count > 0).Select(c => (c.Index, c.Name)));
            }

            var interfaces = new List<MdnsInterface>();
            foreach ((int index, string name, List<IPAddress> ipv4, List<IPAddress> ipv6) in chosen)
            {
                bool onIPv4 = _ipv4?.Joined.Contains(index) == true;
                bool onIPv6 = _ipv6?.Joined.Contains(index) == true;
                if (onIPv4 || onIPv6)
                {
                    var addresses = new List<IPAddress>();
                    if (onIPv4)
                    {
                        addresses.AddRange(ipv4);
                    }

                    if (onIPv6)
                    {
                        addresses.AddRange(ipv6);
                    }

                    interfaces.Add(new MdnsInterface(index, name, addresses));
                }
            }

            if (Same(_interfaces, interfaces))
            {
                return false;
            }

            Volatile.Write(ref _interfaces, interfaces);
        }

        if (_logger.IsEnabled(LogLevel.Information))
        {
            string described = Describe(Interfaces);
            Log.MdnsInterfaces(_logger, described);
        }

        return true;
    }

    private bool Chosen(Func<NetworkInterface, bool> filter, NetworkInterface networkInterface)
    {
        try
        {
            return filter(networkInterface);
        }
#pragma warning disable CA1031 // The caller's filter: a failure skips the interface, it does not stop discovery.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.MdnsInterfaceFilterFailed(_logger, networkInterface.Name, ex);
            return false;
        }
    }

    private void Reconcile(FamilySocket socket, IEnumerable<(int Index, string Name)> wanted)
    {
        IPAddress group = socket.Group;
        var keep = new HashSet<int>();
        foreach ((int index, string name) in wanted)
        {
            keep.Add(index);
            if (socket.Joined.Contains(index))
            {
                continue;
            }

            try
            {
                if (socket.Family == AddressFamily.InterNetwork)
                {
                    socket.Socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group, index));
                }
                else
                {
                    socket.Socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(group, index));
                }

                socket.Joined.Add(index);
                Log.MdnsJoined(_logger, group, name, index);
            }
            catch (SocketException ex)
            {
                Log.MdnsJoinFailed(_logger, group, name, index, ex.SocketErrorCode);
            }
        }

        foreach (int index in socket.Joined.Where(i => !keep.Contains(i)).ToList())
        {
            socket.Joined.Remove(index);
            try
            {
                if (socket.Family == AddressFamily.InterNetwork)
                {
                    socket.Socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.DropMembership, new MulticastOption(group, index));
                }
                else
                {
                    socket.Socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.DropMembership, new IPv6MulticastOption(group, index));
                }
            }
            catch (SocketException)
            {
                // The interface is gone, and its membership with it.
            }

            Log.MdnsLeft(_logger, group, index);
        }
    }

    private static bool Same(IReadOnlyList<MdnsInterface> a, List<MdnsInterface> b) =>
        a.Count == b.Count
        && a.Zip(b).All(p => p.First.Index == p.Second.Index && p.First.Name == p.Second.Name && p.First.Addresses.SequenceEqual(p.Second.Addresses));

    private static string Describe(IReadOnlyList<MdnsInterface> interfaces) =>
        interfaces.Count == 0
            ? "no interface"
            : string.Join(", ", interfaces.Select(i => $"{i.Name} (index {i.Index}: {string.Join(' ', i.Addresses)})"));

    /// <summary>The socket of one address family, the interfaces it joined, and the gate its multicast sends take.</summary>
    private sealed class FamilySocket(Socket socket, AddressFamily family)
    {
        public Socket Socket { get; } = socket;

        public AddressFamily Family { get; } = family;

        public IPAddress Group { get; } = IPAddress.Parse(family == AddressFamily.InterNetwork ? "224.0.0.251" : "ff02::fb");

        public IPEndPoint GroupEndPoint => new(Group, Port);

        /// <summary>Gets the indexes of the interfaces joined to the group (guarded by the transport's state lock).</summary>
        public HashSet<int> Joined { get; } = [];

        public SemaphoreSlim SendGate { get; } = new(1, 1);

        /// <summary>Gets or sets the interface IP_MULTICAST_IF names now, or -1 (guarded by <see cref="SendGate"/>).</summary>
        public int MulticastInterface { get; set; } = -1;
    }
}
