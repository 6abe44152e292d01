using System.Net;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Ataraxia.Tcp.Discovery.Dns;
using Ataraxia.Tcp.Internal;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Discovery;

/// <summary>
/// Finds other nodes of the same network on the local network with mDNS/DNS-SD (RFC 6762/6763), publishes this
/// one, and tells the <see cref="TcpTransport"/> whom to connect to.
/// </summary>
/// <remarks>
/// <para>
/// The service type is <c>_&lt;network name&gt;._tcp.local</c> and the instance label is the node id, as the
/// JavaScript library publishes them (WIRE.md §10). This node also publishes a TXT record with
/// <c>security=tls</c> or <c>security=none</c>; only peers whose TXT names the security this transport speaks are
/// connected to, so JavaScript nodes (no TXT, Noise over TCP) are listed but never dialled. Of two nodes that see
/// each other, the one with the lower node id dials.
/// </para>
/// <para>
/// Events are raised on a background task, one at a time, never on the receive path. All members are thread-safe.
/// </para>
/// </remarks>
public sealed partial class MdnsDiscovery : ITcpPeerDiscovery, IAsyncDisposable
{
    private readonly MdnsDiscoveryOptions _options;
    private readonly Func<ILogger, IMdnsTransport> _createTransport;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Known> _peers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Channel<Action> _events = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _incompatibleLogged = new(StringComparer.OrdinalIgnoreCase);
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private TcpDiscoveryContext? _context;
    private IMdnsTransport? _transport;
    private MdnsLoop? _loop;
    private MdnsResponder? _responder;
    private MdnsBrowser? _browser;
    private CancellationTokenSource? _stopping;
    private Task? _loopTask;
    private Task? _eventTask;
    private bool _stopped;

    /// <summary>Creates an mDNS discovery; pass it as <see cref="TcpTransportOptions.Discovery"/>.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults (publish and browse on every multicast interface).</param>
    public MdnsDiscovery(MdnsDiscoveryOptions? options = null)
        : this(options, null)
    {
    }

    internal MdnsDiscovery(MdnsDiscoveryOptions? options, Func<ILogger, IMdnsTransport>? createTransport)
    {
        _options = options ?? new MdnsDiscoveryOptions();
        _options.Validate();
        _createTransport = createTransport ?? (logger => new MdnsSocketTransport(_options, logger));
    }

    /// <summary>Raised when a peer appears (compatible or not).</summary>
    public event EventHandler<MdnsPeerEventArgs>? PeerFound;

    /// <summary>Raised when a peer goes away (goodbye, expiry, or no address left).</summary>
    public event EventHandler<MdnsPeerEventArgs>? PeerLost;

    /// <summary>Gets the peers seen now.</summary>
    public IReadOnlyCollection<MdnsPeer> Peers
    {
        get
        {
            lock (_lock)
            {
                return [.. _peers.Values.Select(k => k.Peer)];
            }
        }
    }

    /// <summary>Gets the instance name this node publishes, once started with publishing on.</summary>
    public string? InstanceName => _responder?.Instance.ToString();

    /// <inheritdoc />
    public async ValueTask StartAsync(TcpDiscoveryContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        lock (_lock)
        {
            if (_context is not null)
            {
                throw new InvalidOperationException("An mDNS discovery serves one transport and starts once.");
            }

            _context = context;
        }

        _logger = context.LoggerFactory.CreateLogger<MdnsDiscovery>();
        DnsName serviceType = DnsName.FromLabels("_" + context.NetworkName, "_tcp", "local");
        string localLabel = context.LocalId.ToString();
        _loop = new MdnsLoop(_options.TimeProvider, _logger);
        _transport = _createTransport(_logger);
        int port = context.Port;
        bool publish = _options.Publish && port != 0;
        if (publish)
        {
            _responder = new MdnsResponder(_loop, _transport, _logger, _options, serviceType, localLabel, HostName(), port, context.IsTls);
        }

        if (_options.Browse)
        {
            _browser = new MdnsBrowser(
                _loop,
                _transport,
                _logger,
                _options.Timings,
                serviceType,
                label => label == localLabel || (_responder is { } responder && label == responder.Label),
                OnServiceChanged);
        }

        _transport.Received += OnReceived;
        _transport.InterfacesChanged += OnInterfacesChanged;
        await _transport.StartAsync(cancellationToken).ConfigureAwait(false);

        _stopping = new CancellationTokenSource();
        _eventTask = Task.Run(RaiseEventsAsync, CancellationToken.None);
        _responder?.Start();
        _browser?.Start();
        _loopTask = Task.Run(() => _loop.RunAsync(_stopping.Token), CancellationToken.None);
        if (_logger.IsEnabled(LogLevel.Information))
        {
#pragma warning disable CA1873 // Guarded above.
            Log.MdnsStarted(_logger, serviceType.ToString(), publish ? _responder!.Instance.ToString() : "nothing", _options.Browse);
#pragma warning restore CA1873
        }
    }

    /// <inheritdoc />
    public async ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        MdnsLoop? loop;
        lock (_lock)
        {
            if (_stopped || _context is null)
            {
                return;
            }

            _stopped = true;
            loop = _loop;
        }

        if (loop is not null && _loopTask is not null)
        {
            var goodbye = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
            await loop.PostAsync(
                async () =>
                {
                    _browser?.Stop();
                    if (_responder is { } responder)
                    {
                        await responder.SayGoodbyeAsync().ConfigureAwait(false);
                        goodbye.TrySetResult(responder.GoodbyeSent);
                    }
                    else
                    {
                        goodbye.TrySetResult(Task.CompletedTask);
                    }
                },
                cancellationToken).ConfigureAwait(false);
            try
            {
                Task sent = await goodbye.Task.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                await sent.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The goodbye is a courtesy: peers expire us anyway.
            }

            loop.Complete();
            await _stopping!.CancelAsync().ConfigureAwait(false);
            await _loopTask.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_transport is { } transport)
        {
            transport.Received -= OnReceived;
            transport.InterfacesChanged -= OnInterfacesChanged;
            await transport.DisposeAsync().ConfigureAwait(false);
        }

        Known[] dialled;
        lock (_lock)
        {
            dialled = [.. _peers.Values];
            _peers.Clear();
        }

        foreach (Known known in dialled)
        {
            if (known.Dialled is { } endPoint)
            {
                _context!.RemovePeer(endPoint);
            }
        }

        _events.Writer.TryComplete();
        if (_eventTask is not null)
        {
            await _eventTask.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops discovering (saying goodbye on the network).</summary>
    /// <returns>A task that completes when stopped.</returns>
    public ValueTask DisposeAsync() => StopAsync();

    private static MdnsPeer ToPeer(MdnsService service, TcpDiscoveryContext context)
    {
        NodeId? id = NodeId.TryParse(StripConflictSuffix(service.Instance.GetLabel(0)), out NodeId parsed) ? Standard(parsed) : null;
        bool compatible = id is not null && service.Security == (context.IsTls ? "tls" : "none");
        return new MdnsPeer(id, service.Instance.ToString(), service.Port, [.. service.Addresses.Select(a => a.Address)], service.Security, compatible);
    }

    // The string form drops leading zero bytes: restore them, or an id starting with 0x00 would compare (and
    // decide who dials) differently on the two sides.
    private static NodeId Standard(NodeId id)
    {
        if (id.Length >= NodeId.StandardLength)
        {
            return id;
        }

        Span<byte> bytes = stackalloc byte[NodeId.StandardLength];
        id.CopyTo(bytes[(NodeId.StandardLength - id.Length)..]);
        return new NodeId(bytes);
    }

    // A responder that lost its name publishes "<id> (2)" (RFC 6763 §D); the id is still the node's.
    private static string StripConflictSuffix(string label)
    {
        Match match = ConflictSuffix().Match(label);
        return match.Success ? label[..match.Index] : label;
    }

    [GeneratedRegex(@" \(\d+\)$", RegexOptions.CultureInvariant)]
    private static partial Regex ConflictSuffix();

    private string HostName()
    {
        if (_options.HostName is { } configured)
        {
            return configured;
        }

        string name = System.Net.Dns.GetHostName().Split('.')[0];
        var label = new string([.. name.Where(c => char.IsAsciiLetterOrDigit(c) || c == '-')]);
        return label.Length == 0 ? "ataraxia" : label[..Math.Min(label.Length, 63)];
    }

    private void OnReceived(MdnsPacket packet)
    {
        byte[] data = packet.Data.ToArray();
        MdnsPacket copy = packet with { Data = data };
        if (!_loop!.TryPost(() => HandlePacketAsync(copy)))
        {
            Log.MdnsQueueFull(_logger, packet.Source);
        }
    }

    private void OnInterfacesChanged() =>
        _loop!.TryPost(() =>
        {
            _responder?.OnInterfacesChanged();
            _browser?.OnInterfacesChanged();
            return Task.CompletedTask;
        });

    private async Task HandlePacketAsync(MdnsPacket packet)
    {
        DnsMessage message;
        try
        {
            message = DnsMessageReader.Read(packet.Data.Span);
        }
        catch (DnsFormatException ex)
        {
            Log.MdnsMalformed(_logger, packet.Source, ex.Message);
            return;
        }

        if (_responder is { } responder)
        {
            await responder.HandleAsync(message, packet).ConfigureAwait(false);
        }

        if (_browser is { } browser)
        {
            await browser.HandleAsync(message, packet).ConfigureAwait(false);
        }
    }

    // On the loop: old/new as the browser reports them.
    private void OnServiceChanged(MdnsService? old, MdnsService? now)
    {
        TcpDiscoveryContext context = _context!;
        string instance = (now ?? old)!.Instance.ToString();
        Known? previous;
        Known? next = null;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _peers.TryGetValue(instance, out previous);
            if (now is null)
            {
                _peers.Remove(instance);
            }
            else
            {
                MdnsPeer peer = ToPeer(now, context);
                next = new Known(peer, ChooseEndPoint(peer, context));
                _peers[instance] = next;
            }
        }

        if (previous?.Dialled is { } oldEndPoint && !oldEndPoint.Equals(next?.Dialled))
        {
            context.RemovePeer(oldEndPoint);
        }

        if (next is null)
        {
            Log.MdnsPeerLost(_logger, instance);
            RaiseEvent(PeerLost, previous!.Peer);
            return;
        }

        if (next.Dialled is { } endPoint && !endPoint.Equals(previous?.Dialled))
        {
            Log.MdnsDialing(_logger, next.Peer.NodeId!.Value, endPoint);
            context.AddPeer(endPoint);
        }

        if (previous is null)
        {
            MdnsPeer peer = next.Peer;
            if (_logger.IsEnabled(LogLevel.Debug))
            {
#pragma warning disable CA1873 // Guarded above.
                Log.MdnsPeerFound(_logger, instance, peer.Port, string.Join(", ", peer.Addresses), peer.Security ?? "unknown");
#pragma warning restore CA1873
            }

            if (peer.NodeId is null)
            {
                Log.MdnsPeerNotNode(_logger, instance);
            }
            else if (!peer.IsCompatible)
            {
                bool first;
                lock (_lock)
                {
                    first = _incompatibleLogged.Add(instance);
                }

                if (first)
                {
                    Log.MdnsPeerIncompatible(_logger, instance, peer.Security ?? "no TXT record, so not this implementation's TCP", context.IsTls ? "tls" : "none");
                }
            }

            RaiseEvent(PeerFound, peer);
        }
    }

    // The lower node id dials; one address, the first the browser ordered (the PTR's interface, IPv4 first).
    private static DnsEndPoint? ChooseEndPoint(MdnsPeer peer, TcpDiscoveryContext context) =>
        peer.IsCompatible && peer.NodeId is { } id && context.LocalId.CompareTo(id) < 0 && peer.Addresses.Count > 0
            ? new DnsEndPoint(peer.Addresses[0].ToString(), peer.Port)
            : null;

    private void RaiseEvent(EventHandler<MdnsPeerEventArgs>? handler, MdnsPeer peer)
    {
        if (handler is not null)
        {
            _events.Writer.TryWrite(() => handler(this, new MdnsPeerEventArgs(peer)));
        }
    }

    private async Task RaiseEventsAsync()
    {
        await foreach (Action action in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                action();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.MdnsHandlerFailed(_logger, ex);
            }
        }
    }

    private sealed record Known(MdnsPeer Peer, DnsEndPoint? Dialled);
}
