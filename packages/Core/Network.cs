using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Ataraxia.Cbor;
using Ataraxia.Internal;
using Ataraxia.Protocol;
using Ataraxia.Transport;
using Microsoft.Extensions.Logging;

namespace Ataraxia;

/// <summary>
/// The local node's membership in a mesh: it connects through its transports, learns the topology from its
/// peers, routes messages for others (unless it is an endpoint) and delivers the messages addressed to it.
/// </summary>
/// <remarks>
/// <para>
/// Events (<see cref="NodeAvailable"/>, <see cref="NodeUnavailable"/>, <see cref="MessageReceived"/>) are raised
/// one at a time on a dedicated loop, never on a connection's read loop: a slow handler delays later events but
/// never routing. Availability events fire once per change, after routes settled, never for the local node.
/// </para>
/// <para>All members are thread-safe.</para>
/// </remarks>
public sealed class Network : IAsyncDisposable
{
    /// <summary>
    /// The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of every network (message, byte, peer, node, latency
    /// and authentication instruments), for <c>dotnet-counters monitor --counters Ataraxia</c> or OpenTelemetry's <c>AddMeter</c>.
    /// </summary>
    public const string MeterName = "Ataraxia";

    private readonly NetworkOptions _options;
    private readonly PeerSessionOptions _sessionOptions;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Topology _topology;
    private readonly Dictionary<NodeId, Node> _available = [];
    private readonly ConcurrentDictionary<ulong, PendingSend> _pending = new();
    private readonly ConcurrentDictionary<ulong, Forward> _forwards = new();
    private readonly SemaphoreSlim _sendSlots;
    private readonly Channel<Message> _incoming;
    private readonly Channel<Action> _events = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Task> _pumps = [];
    private readonly List<(ITransport Transport, Host Host)> _transports = [];
    private readonly Action<ulong, PendingSend> _releaseSlot;
    private readonly KeyValuePair<string, object?> _networkTag;
    private ProtocolHandler[] _protocolHandlers = [];
    private readonly Dictionary<NodeId, List<HeldMessage>> _held = [];
    private int _heldCount;
    private volatile Dictionary<NodeId, PeerConnection> _routes = [];
    private volatile bool _routesDirty;
    private ITimer? _broadcastTimer;
    private ITimer? _gossipTimer;
    private ITimer? _sweepTimer;
    private bool _broadcastArmed;
    private long _nextMessageId = -1;
    private int _state; // 0 new, 1 joined, 2 left
    private Task? _eventLoop;

    /// <summary>Creates the local node with a fresh id. Call <see cref="JoinAsync"/> to connect.</summary>
    /// <param name="options">The settings.</param>
    public Network(NetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _sessionOptions = options.Session with
        {
            AuthProviders = options.Authentication,
            LoggerFactory = options.LoggerFactory,
            TimeProvider = options.TimeProvider,
        };
        _sessionOptions.Validate();
        _logger = options.LoggerFactory.CreateLogger<Network>();
        _time = options.TimeProvider;
        Id = NodeId.NewId();
        _topology = new Topology(Id);
        _sendSlots = new SemaphoreSlim(options.MaxPendingSends, options.MaxPendingSends);
        _networkTag = new(AtaraxiaMetrics.NetworkTag, options.Name);
        _incoming = Channel.CreateBounded<Message>(
            new BoundedChannelOptions(options.IncomingMessageCapacity)
            {
                FullMode = options.IncomingMessageFullMode,
                SingleWriter = false,
            },
            _ => CountDropped("queue_full"));
        foreach (ITransport transport in options.Transports)
        {
            _transports.Add((transport, new Host(this, transport)));
        }

        _releaseSlot = OnSendCompleted;
        Groups = new GroupManager(this);
    }

    /// <summary>Raised when a node becomes reachable.</summary>
    public event EventHandler<NodeEventArgs>? NodeAvailable;

    /// <summary>Raised when a node stops being reachable.</summary>
    public event EventHandler<NodeEventArgs>? NodeUnavailable;

    /// <summary>Raised for every application message addressed to this node (also readable through <see cref="ReadMessagesAsync"/>).</summary>
    public event EventHandler<MessageEventArgs>? MessageReceived;

    /// <summary>Gets the local node id, new for every <see cref="Network"/> instance.</summary>
    public NodeId Id { get; }

    /// <summary>Gets the network name.</summary>
    public string Name => _options.Name;

    /// <summary>Gets the settings.</summary>
    public NetworkOptions Options => _options;

    /// <summary>Gets a value indicating whether the network is joined.</summary>
    public bool IsJoined => Volatile.Read(ref _state) == 1;

    /// <summary>Gets a snapshot of the nodes currently reachable (the local node excluded).</summary>
    public IReadOnlyCollection<Node> Nodes
    {
        get
        {
            lock (_gate)
            {
                return [.. _available.Values];
            }
        }
    }

    internal GroupManager Groups { get; }

    /// <summary>Gets the direct peer messages to a node currently go through, if it is reachable.</summary>
    internal NodeId? GetNextHop(NodeId id) => _routes.TryGetValue(id, out PeerConnection? hop) ? hop.RemoteId : null;

    internal ILoggerFactory LoggerFactory => _options.LoggerFactory;

    /// <summary>Gets the route messages to a node take from here: the next hop, the transport it is reached over, the whole path and its latency.</summary>
    /// <param name="id">The node id.</param>
    /// <returns>The route, or <see langword="null"/> when the node is not reachable (or is the local node).</returns>
    public NodeRoute? GetRoute(NodeId id)
    {
        lock (_gate)
        {
            if (_routesDirty && IsJoined)
            {
                UpdateRoutes();
            }

            if (!_routes.TryGetValue(id, out PeerConnection? hop))
            {
                return null;
            }

            return new NodeRoute(_topology.PathTo(id, hop), hop.Owner?.Name ?? hop.Transport, TimeSpan.FromMilliseconds(_topology.LatencyTo(id, hop)));
        }
    }

    /// <summary>Gets a reachable node by id.</summary>
    /// <param name="id">The node id.</param>
    /// <param name="node">The node, when reachable.</param>
    /// <returns><see langword="true"/> if the node is reachable.</returns>
    public bool TryGetNode(NodeId id, [NotNullWhen(true)] out Node? node)
    {
        lock (_gate)
        {
            return _available.TryGetValue(id, out node);
        }
    }

    /// <summary>Starts the transports and the topology machinery.</summary>
    /// <param name="cancellationToken">Cancels starting the transports.</param>
    /// <returns>A task that completes when every transport started.</returns>
    /// <exception cref="InvalidOperationException">The network already joined, or left.</exception>
    public async ValueTask JoinAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("A network joins once; create a new Network to join again.");
        }

        _eventLoop = Task.Run(RunEventLoopAsync, CancellationToken.None);
        TimeSpan firstGossip = _options.LatencyGossipInterval + TimeSpan.FromMilliseconds(Random.Shared.Next(2, 103));
        lock (_gate)
        {
            _gossipTimer = _time.CreateTimer(static s => ((Network)s!).Gossip(), this, firstGossip, _options.LatencyGossipInterval);
            // Sends time out within an eighth of AckTimeout after it passed: one timer for all of them, none per message.
            TimeSpan sweep = TimeSpan.FromTicks(Math.Max(_options.AckTimeout.Ticks / 8, TimeSpan.FromMilliseconds(10).Ticks));
            _sweepTimer = _time.CreateTimer(static s => ((Network)s!).Sweep(), this, sweep, sweep);
        }

        Groups.Start();
        AtaraxiaMetrics.Track(this);
        foreach ((ITransport transport, Host host) in Snapshot())
        {
            await transport.StartAsync(host, cancellationToken).ConfigureAwait(false);
        }

        Log.NetworkJoined(_logger, Name, Id);
    }

    /// <summary>Stops the transports, closes every connection (with BYE where the transport uses it) and forgets the mesh.</summary>
    /// <param name="cancellationToken">Stops waiting for graceful closes.</param>
    /// <returns>A task that completes when the node left.</returns>
    public async ValueTask LeaveAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        Groups.Stop();
        lock (_gate)
        {
            _held.Clear();
            _heldCount = 0;
        }
        AtaraxiaMetrics.Untrack(this);
        foreach ((ITransport transport, _) in Snapshot())
        {
            try
            {
                await transport.StopAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.TransportStopFailed(_logger, transport.Name, ex);
            }
        }

        List<PeerConnection> connections;
        lock (_gate)
        {
            connections = [.. _topology.Connections];
            _gossipTimer?.Dispose();
            _sweepTimer?.Dispose();
            _broadcastTimer?.Dispose();
            _broadcastArmed = true; // no more broadcasts
        }

        await Task.WhenAll(connections.Select(c => c.Session.CloseAsync(cancellationToken))).ConfigureAwait(false);
        Task[] pumps;
        lock (_gate)
        {
            pumps = [.. _pumps];
        }

        await Task.WhenAll(pumps).WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _topology.Clear();
            UpdateRoutes();
        }

        foreach (KeyValuePair<ulong, PendingSend> pending in _pending)
        {
            Fail(pending.Key, pending.Value, MessageDeliveryFailure.ConnectionClosed);
        }

        _incoming.Writer.TryComplete();
        _events.Writer.TryComplete();
        if (_eventLoop is not null)
        {
            await _eventLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        Log.NetworkLeft(_logger, Name, Id);
    }

    /// <summary>Gets the transports the network runs now: those of <see cref="NetworkOptions.Transports"/> and those added since.</summary>
    public IReadOnlyList<ITransport> Transports => [.. Snapshot().Select(t => t.Transport)];

    /// <summary>
    /// Adds a transport to a joined network and starts it, for example a TCP transport on the process that became
    /// a machine's leader.
    /// </summary>
    /// <param name="transport">The transport; a new instance (transports start once).</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>A task that completes when the transport started.</returns>
    /// <exception cref="InvalidOperationException">The network is not joined.</exception>
    /// <exception cref="ArgumentException">The transport was already added.</exception>
    public async ValueTask AddTransportAsync(ITransport transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var host = new Host(this, transport);
        lock (_gate)
        {
            if (!IsJoined)
            {
                throw new InvalidOperationException("The network is not joined; add transports through NetworkOptions.Transports before joining.");
            }

            if (_transports.Exists(t => t.Transport == transport))
            {
                throw new ArgumentException("The transport was already added.", nameof(transport));
            }

            _transports.Add((transport, host));
        }

        try
        {
            await transport.StartAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
            {
                _transports.RemoveAll(t => t.Transport == transport);
            }

            throw;
        }
    }

    /// <summary>
    /// Stops a transport and closes the connections it made or accepted; the mesh routes around them (or loses the
    /// nodes only they reached).
    /// </summary>
    /// <param name="transport">A transport of this network.</param>
    /// <param name="cancellationToken">Stops waiting for graceful closes.</param>
    /// <returns><see langword="true"/> if the transport was part of the network.</returns>
    public async ValueTask<bool> RemoveTransportAsync(ITransport transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        List<PeerConnection> connections;
        lock (_gate)
        {
            if (_transports.RemoveAll(t => t.Transport == transport) == 0)
            {
                return false;
            }

            connections = [.. _topology.Connections.Where(c => c.Owner == transport)];
        }

        await transport.StopAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(connections.Select(c => c.Session.CloseAsync(cancellationToken))).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Takes over the messages whose type starts with <paramref name="typePrefix"/>, for a protocol built on top of the
    /// network (such as the services of <c>Ataraxia.Services</c>): they go to <paramref name="handler"/> instead of
    /// <see cref="ReadMessagesAsync"/>, <see cref="MessageReceived"/> and the groups.
    /// </summary>
    /// <param name="typePrefix">The type prefix, for example <c>"at:service:"</c>. The <c>"at:group:"</c> prefix is the network's own.</param>
    /// <param name="handler">
    /// Called on the read loop of the connection the message arrived on, in arrival order for that connection. It must return
    /// quickly and must not block: hand longer work to another thread. An exception it throws is logged and the message dropped.
    /// </param>
    /// <returns>A registration whose disposal removes the handler.</returns>
    /// <exception cref="InvalidOperationException">Another handler already owns an overlapping prefix.</exception>
    public IDisposable AddProtocolHandler(string typePrefix, Action<Message> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(typePrefix);
        ArgumentNullException.ThrowIfNull(handler);
        if (typePrefix.StartsWith(GroupManager.TypePrefix, StringComparison.Ordinal) || GroupManager.TypePrefix.StartsWith(typePrefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The prefix `{typePrefix}` overlaps the network's own `{GroupManager.TypePrefix}` messages.");
        }

        var registration = new ProtocolHandler(this, typePrefix, handler);
        lock (_gate)
        {
            foreach (ProtocolHandler existing in _protocolHandlers)
            {
                if (existing.Prefix.StartsWith(typePrefix, StringComparison.Ordinal) || typePrefix.StartsWith(existing.Prefix, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"The prefix `{typePrefix}` overlaps the prefix `{existing.Prefix}` of another handler.");
                }
            }

            Volatile.Write(ref _protocolHandlers, [.. _protocolHandlers, registration]);
        }

        return registration;
    }

    /// <summary>Sends a message to a node and waits until the first hop accepted it.</summary>
    /// <param name="target">The node.</param>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels waiting (the message may still arrive).</param>
    /// <returns>A task that completes when the next hop acknowledged the message.</returns>
    /// <exception cref="MessageDeliveryException">No route, rejected by the next hop, or timed out.</exception>
    public ValueTask SendAsync(NodeId target, string type, CborValue data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(data);
        return SendCoreAsync(target, type, data.Encode(), cancellationToken);
    }

    /// <summary>Sends a message whose payload is already CBOR-encoded, for example one received and passed on unchanged.</summary>
    /// <param name="target">The node.</param>
    /// <param name="type">The message type.</param>
    /// <param name="encodedPayload">Exactly one well-formed CBOR item; it is sent as given (any argument widths, indefinite lengths).</param>
    /// <param name="cancellationToken">Cancels waiting (the message may still arrive).</param>
    /// <returns>A task that completes when the next hop acknowledged the message.</returns>
    /// <exception cref="ArgumentException">The payload is not exactly one well-formed CBOR item (JavaScript receivers would fail on it).</exception>
    /// <exception cref="MessageDeliveryException">No route, rejected by the next hop, or timed out.</exception>
    public ValueTask SendEncodedAsync(NodeId target, string type, ReadOnlyMemory<byte> encodedPayload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!IsSingleItem(encodedPayload.Span))
        {
            throw new ArgumentException("The payload must be exactly one well-formed CBOR item.", nameof(encodedPayload));
        }

        return SendCoreAsync(target, type, encodedPayload, cancellationToken);
    }

    /// <summary>Sends a message to every reachable node and waits until each first hop answered.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The number of nodes whose first hop acknowledged the message; failures to single nodes are not thrown.</returns>
    public async ValueTask<int> BroadcastAsync(string type, CborValue? data = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        byte[] payload = (data ?? CborValue.Null).Encode();
        return await SendToManyAsync(Nodes.Select(n => n.Id), type, payload, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a message mapped from a .NET value to every reachable node.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The number of nodes whose first hop acknowledged the message.</returns>
    [RequiresUnreferencedCode("Maps by reflection over the public properties of T.")]
    [RequiresDynamicCode("Maps by reflection over the public properties of T.")]
    public ValueTask<int> BroadcastAsync<T>(string type, T data, CancellationToken cancellationToken = default) =>
        BroadcastAsync(type, CborSerializer.ToValue(data), cancellationToken);

    /// <summary>Reads the application messages addressed to this node, until the network leaves.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The messages in arrival order.</returns>
    /// <remarks>
    /// Messages are buffered up to <see cref="NetworkOptions.IncomingMessageCapacity"/> whether or not anyone reads;
    /// <see cref="NetworkOptions.IncomingMessageFullMode"/> says what happens beyond. Use one reader.
    /// </remarks>
    public IAsyncEnumerable<Message> ReadMessagesAsync(CancellationToken cancellationToken = default) =>
        _incoming.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Leaves the network if joined.</summary>
    /// <returns>A task that completes when the node left.</returns>
    public async ValueTask DisposeAsync()
    {
        await LeaveAsync().ConfigureAwait(false);
        Interlocked.Exchange(ref _state, 2);
        _incoming.Writer.TryComplete();
        _events.Writer.TryComplete();
    }

    internal async Task<int> SendToManyAsync(IEnumerable<NodeId> targets, string type, byte[] payload, CancellationToken cancellationToken)
    {
        Task<bool>[] sends = [.. targets.Select(async target =>
        {
            try
            {
                await SendCoreAsync(target, type, payload, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (MessageDeliveryException)
            {
                return false;
            }
        })];
        bool[] results = await Task.WhenAll(sends).ConfigureAwait(false);
        return results.Count(r => r);
    }

    // The send path allocates nothing per message but the DATA message itself: the pending send is pooled, its
    // timeout is enforced by the sweep timer rather than a timer per message, and a free slot is taken without
    // waiting whenever one is available.
    internal ValueTask SendCoreAsync(NodeId target, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!IsJoined)
        {
            throw new InvalidOperationException("The network is not joined.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        // With a slot free, WaitAsync returns a cached completed task.
        Task slot = _sendSlots.WaitAsync(cancellationToken);
        return slot.IsCompletedSuccessfully
            ? SendWithSlotAsync(target, type, payload, cancellationToken)
            : SendAfterWaitingAsync(slot, target, type, payload, cancellationToken);
    }

    private async ValueTask SendAfterWaitingAsync(Task slot, NodeId target, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await slot.ConfigureAwait(false);
        await SendWithSlotAsync(target, type, payload, cancellationToken).ConfigureAwait(false);
    }

    // Called holding one of _sendSlots; the slot is released when the send completes, however it completes.
    private ValueTask SendWithSlotAsync(NodeId target, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        PeerConnection? hop;
        try
        {
            if (CurrentRoutes().TryGetValue(target, out hop) && hop.Session.DisconnectReason != PeerDisconnectReason.None)
            {
                // The connection ended a moment ago and its pump has not caught up yet.
                Forget(hop);
                _routes.TryGetValue(target, out hop);
            }
        }
        catch
        {
            _sendSlots.Release();
            throw;
        }

        if (hop is null)
        {
            _sendSlots.Release();
            CountFailure(MessageDeliveryFailure.NoRoute);
            return ValueTask.FromException(new MessageDeliveryException(target, MessageDeliveryFailure.NoRoute));
        }

        ulong messageId = NextMessageId();
        var pending = PendingSend.Rent(messageId, hop, target, _time.GetTimestamp(), _releaseSlot);
        ValueTask result = pending.WaitAsync();
        pending.RegisterCancellation(messageId, cancellationToken);
        _pending[messageId] = pending;
        var data = new PeerData(target, type, payload, [new PeerPathEntry(Id, messageId)]);
        try
        {
            if (hop.Session.TrySend(data))
            {
                CountSent(hop, payload.Length);
            }
            else
            {
                _ = QueueWhenRoomAsync(hop, data, pending, messageId, cancellationToken);
            }
        }
        catch (PeerSessionClosedException ex)
        {
            Fail(messageId, pending, MessageDeliveryFailure.ConnectionClosed, new MessageDeliveryException($"The connection to the next hop towards {target} closed.", ex));
        }
        catch (Exception ex)
        {
            // Argument errors (a payload over the frame limit): the caller sees them as thrown.
            pending.TryComplete(messageId, ex);
        }

        return result;
    }

    // The next hop's queue is full: wait for room without blocking the caller's thread; the send stays pending.
    private async Task QueueWhenRoomAsync(PeerConnection hop, PeerData data, PendingSend pending, ulong messageId, CancellationToken cancellationToken)
    {
        try
        {
            await hop.Session.SendAsync(data, cancellationToken).ConfigureAwait(false);
            CountSent(hop, data.Data.Length);
        }
        catch (PeerSessionClosedException ex)
        {
            Fail(messageId, pending, MessageDeliveryFailure.ConnectionClosed, new MessageDeliveryException($"The connection to the next hop towards {data.Target} closed.", ex));
        }
        catch (OperationCanceledException ex)
        {
            pending.TryComplete(messageId, ex);
        }
    }

    // Metrics of the send path: tags are precomputed (per connection, per network), so counting allocates nothing,
    // and nothing is recorded unless a listener enabled the instrument.
    private static void CountSent(PeerConnection hop, int bytes) =>
        AtaraxiaMetrics.CountMessage(AtaraxiaMetrics.MessagesSent, AtaraxiaMetrics.BytesSent, bytes, hop.Session.MetricTags);

    private void Fail(ulong id, PendingSend pending, MessageDeliveryFailure failure, MessageDeliveryException? error = null)
    {
        if (pending.TryComplete(id, error ?? new MessageDeliveryException(pending.Target, failure)))
        {
            CountFailure(failure);
        }
    }

    private void CountFailure(MessageDeliveryFailure failure)
    {
        if (AtaraxiaMetrics.MessagesFailed.Enabled)
        {
            AtaraxiaMetrics.MessagesFailed.Add(1, AtaraxiaMetrics.FailureTags(Name, failure switch
            {
                MessageDeliveryFailure.NoRoute => "no_route",
                MessageDeliveryFailure.Rejected => "rejected",
                MessageDeliveryFailure.Timeout => "timeout",
                _ => "connection_closed",
            }));
        }
    }

    private void CountRejected(string reason)
    {
        if (AtaraxiaMetrics.MessagesRejected.Enabled)
        {
            AtaraxiaMetrics.MessagesRejected.Add(1, AtaraxiaMetrics.FailureTags(Name, reason));
        }
    }

    private void CountDropped(string reason)
    {
        if (AtaraxiaMetrics.MessagesDropped.Enabled)
        {
            AtaraxiaMetrics.MessagesDropped.Add(1, AtaraxiaMetrics.FailureTags(Name, reason));
        }
    }

    /// <summary>Adds the peer connections of this network, by transport, to <paramref name="counts"/> (for <c>ataraxia.peer.count</c>).</summary>
    internal void CountPeers(Dictionary<(string Network, string Transport), long> counts)
    {
        lock (_gate)
        {
            // Transports without connections report 0 rather than nothing, so a count that dropped to 0 is seen.
            foreach ((ITransport transport, _) in _transports)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(counts, (Name, transport.Name), out _);
            }

            foreach (PeerConnection connection in _topology.Connections)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(counts, (Name, connection.Owner?.Name ?? connection.Transport), out _)++;
            }
        }
    }

    /// <summary>Gets the number of reachable nodes (for <c>ataraxia.node.count</c>).</summary>
    internal int CountNodes()
    {
        lock (_gate)
        {
            return _available.Count;
        }
    }

    private void OnSendCompleted(ulong id, PendingSend pending)
    {
        _pending.TryRemove(new KeyValuePair<ulong, PendingSend>(id, pending));
        _sendSlots.Release();
    }

    internal void RaiseEvent(Action action) => _events.Writer.TryWrite(action);

    private ulong NextMessageId() => (ulong)Interlocked.Increment(ref _nextMessageId);

    private PeerSession CreateSession(IDuplexPipe connection, PeerRole role, PeerChannelSecurity? security, string? name, Func<PeerSessionOptions, PeerSessionOptions>? configure, string transport)
    {
        PeerSessionOptions options = configure is null ? _sessionOptions : configure(_sessionOptions);
        return new PeerSession(connection, role, Id, options, security, name)
        {
            // Built once per connection, so that counting its messages allocates nothing.
            MetricTags = [_networkTag, new(AtaraxiaMetrics.TransportTag, transport)],
        };
    }

    private (ITransport Transport, Host Host)[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _transports];
        }
    }

    private async Task<NodeId> AttachAsync(PeerSession session, string transport, ITransport owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!IsJoined)
        {
            session.Abort();
            throw new InvalidOperationException("The network is not joined.");
        }

        session.Start();
        NodeId remote;
        try
        {
            remote = await session.WaitForActiveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            session.Abort();
            throw;
        }

        if (remote == Id)
        {
            Log.SelfConnection(_logger, Id);
            session.Abort();
            throw new PeerSessionClosedException(PeerDisconnectReason.Manual, new InvalidOperationException("The peer is this node itself."));
        }

        var connection = new PeerConnection(session, remote, transport, owner);
        lock (_gate)
        {
            if (!IsJoined)
            {
                session.Abort();
                throw new InvalidOperationException("The network left.");
            }

            _topology.AddConnection(connection);
            _routesDirty = true;
            ScheduleBroadcast();
            Task pump = Task.Run(() => PumpAsync(connection), CancellationToken.None);
            _pumps.Add(pump);
            _ = pump.ContinueWith(t => { lock (_gate) { _pumps.Remove(t); } }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        Log.ConnectionAttached(_logger, connection.RemoteId, connection.Transport);
        return remote;
    }

    private async Task PumpAsync(PeerConnection connection)
    {
        try
        {
            ChannelReader<PeerMessage> incoming = connection.Session.Incoming;
            while (await incoming.WaitToReadAsync().ConfigureAwait(false))
            {
                while (incoming.TryRead(out PeerMessage? message))
                {
                    switch (message)
                    {
                        case PeerData data:
                            ValueTask handled = HandleDataAsync(connection, data);
                            if (!handled.IsCompletedSuccessfully)
                            {
                                // Delivery waits for room: resume the answered callers before waiting.
                                connection.DispatchCompletions();
                            }

                            await handled.ConfigureAwait(false);
                            break;
                        case PeerDataResult result:
                            HandleResult(connection, result);
                            break;
                        case PeerNodeSummary summary:
                            HandleSummary(connection, summary);
                            break;
                        case PeerNodeRequest request:
                            PeerNodeDetails reply;
                            lock (_gate)
                            {
                                reply = _topology.OnRequest(request);
                            }

                            connection.Post(reply);
                            break;
                        case PeerNodeDetails details:
                            lock (_gate)
                            {
                                // Details that repeat what is known (the same news from several peers, gossip
                                // without news) leave routes as they are: no recomputation, no broadcast.
                                if (_topology.OnDetails(connection.RemoteId, details))
                                {
                                    _routesDirty = true;
                                    ScheduleBroadcast();
                                }
                            }

                            break;
                    }
                }

                // Everything that was ready is handled: resume the callers whose sends were answered, together.
                connection.DispatchCompletions();
            }
        }
        finally
        {
            connection.DispatchCompletions();
            await connection.Session.Completion.ConfigureAwait(false);
            Forget(connection);

            foreach (KeyValuePair<ulong, PendingSend> pending in _pending)
            {
                if (pending.Value.Hop == connection)
                {
                    Fail(pending.Key, pending.Value, MessageDeliveryFailure.ConnectionClosed);
                }
            }

            foreach (KeyValuePair<ulong, Forward> forward in _forwards)
            {
                if (forward.Value.From == connection)
                {
                    _forwards.TryRemove(forward.Key, out _);
                }
            }

            Log.ConnectionDetached(_logger, connection.RemoteId, connection.Transport, connection.Session.DisconnectReason);
        }
    }

    // Routes through a connection that ended are dropped at once, not on the next broadcast tick, so that sends do
    // not pick a dead connection and spare connections take over immediately.
    private void Forget(PeerConnection connection)
    {
        lock (_gate)
        {
            if (_topology.RemoveConnection(connection))
            {
                if (IsJoined)
                {
                    UpdateRoutes();
                }

                ScheduleBroadcast();
            }
        }
    }

    private void HandleSummary(PeerConnection connection, PeerNodeSummary summary)
    {
        List<NodeId> requests;
        lock (_gate)
        {
            requests = _topology.OnSummary(connection.RemoteId, summary);
            if (_topology.BroadcastNeeded)
            {
                _routesDirty = true;
                ScheduleBroadcast();
            }
        }

        if (requests.Count > 0)
        {
            connection.Post(new PeerNodeRequest(requests));
        }
    }

    private async ValueTask HandleDataAsync(PeerConnection connection, PeerData data)
    {
        if (data.Path.Count == 0)
        {
            // Nothing to answer to; a well-formed sender always lists itself.
            return;
        }

        PeerPathEntry previous = data.Path[^1];
        if (data.Target == Id)
        {
            connection.Post(new PeerDataResult(PeerMessageType.DataAck, previous.Id));
            AtaraxiaMetrics.CountMessage(AtaraxiaMetrics.MessagesReceived, AtaraxiaMetrics.BytesReceived, data.Data.Length, connection.Session.MetricTags);

            await DeliverAsync(data.Path[0].Node, data.DataType, data.Data).ConfigureAwait(false);
            return;
        }

        string? why = null;
        string? errorType = null;
        PeerConnection? hop = null;
        if (_options.Endpoint)
        {
            (why, errorType) = ("this node is an endpoint", "endpoint");
        }
        else if (data.Path.Count >= _options.MaxPathLength)
        {
            (why, errorType) = ("path too long", "path_too_long");
        }
        else if (!CurrentRoutes().TryGetValue(data.Target, out hop))
        {
            (why, errorType) = ("no route", "no_route");
        }
        else if (PathContains(data.Path, hop.RemoteId) || PathContains(data.Path, Id))
        {
            (why, errorType) = ("loop", "loop");
        }

        if (why is not null || hop is null)
        {
            Log.DataRejected(_logger, data.Target, connection.RemoteId, why ?? "no route");
            CountRejected(errorType ?? "no_route");
            connection.Post(new PeerDataResult(PeerMessageType.DataReject, previous.Id));
            return;
        }

        ulong forwardId = NextMessageId();
        _forwards[forwardId] = new Forward(connection, previous.Id, _time.GetTimestamp());
        var path = new PeerPathEntry[data.Path.Count + 1];
        for (int i = 0; i < data.Path.Count; i++)
        {
            path[i] = data.Path[i];
        }

        path[^1] = new PeerPathEntry(Id, forwardId);
        var forwarded = new PeerData(data.Target, data.DataType, data.Data, path);
        try
        {
            if (hop.Session.TrySend(forwarded))
            {
                AtaraxiaMetrics.CountMessage(AtaraxiaMetrics.MessagesForwarded, AtaraxiaMetrics.BytesForwarded, data.Data.Length, hop.Session.MetricTags);
            }
            else
            {
                // The next hop is congested: refuse rather than let one slow link stall this connection.
                _forwards.TryRemove(forwardId, out _);
                Log.DataRejected(_logger, data.Target, connection.RemoteId, "next hop congested");
                CountRejected("congested");
                connection.Post(new PeerDataResult(PeerMessageType.DataReject, previous.Id));
            }
        }
        catch (PeerSessionClosedException)
        {
            _forwards.TryRemove(forwardId, out _);
            CountRejected("connection_closed");
            connection.Post(new PeerDataResult(PeerMessageType.DataReject, previous.Id));
        }
    }

    private void HandleResult(PeerConnection connection, PeerDataResult result)
    {
        if (_pending.TryGetValue(result.Id, out PendingSend? pending) && pending.Hop == connection)
        {
            NodeId target = pending.Target;
            if (pending.TryClaim(result.Id))
            {
                if (result.Type == PeerMessageType.DataAck)
                {
                    connection.AddCompletion(pending, null);
                }
                else
                {
                    CountFailure(MessageDeliveryFailure.Rejected);
                    connection.AddCompletion(pending, new MessageDeliveryException(target, MessageDeliveryFailure.Rejected));
                }
            }
        }
        else if (_forwards.TryRemove(result.Id, out Forward? forward))
        {
            forward.From.Post(new PeerDataResult(result.Type, forward.PreviousId));
        }
    }

    private async ValueTask DeliverAsync(NodeId source, string type, ReadOnlyMemory<byte> payload, bool mayHold = true)
    {
        Node? node;
        lock (_gate)
        {
            if (!_available.TryGetValue(source, out node))
            {
                // DATA from a node we have not marked available yet: refresh routes first (WIRE.md §7.3).
                UpdateRoutes();
                _available.TryGetValue(source, out node);
            }
        }

        if (node is null)
        {
            if (!mayHold || !TryHold(source, type, payload))
            {
                Log.MessageDropped(_logger, type, source, "the source is not reachable");
                CountDropped("unreachable_source");
            }

            return;
        }

        if (!IsSingleItem(payload.Span))
        {
            Log.MessageDropped(_logger, type, source, "the payload is not exactly one CBOR item");
            CountDropped("malformed_payload");
            return;
        }

        var message = new Message(node, type, payload);
        if (type.StartsWith(GroupManager.TypePrefix, StringComparison.Ordinal))
        {
            Groups.Handle(message);
            return;
        }

        foreach (ProtocolHandler protocol in Volatile.Read(ref _protocolHandlers))
        {
            if (type.StartsWith(protocol.Prefix, StringComparison.Ordinal))
            {
                try
                {
                    protocol.Handler(message);
                }
                catch (Exception ex)
                {
                    Log.ProtocolHandlerFailed(_logger, type, source, ex);
                    CountDropped("handler_failed");
                }

                return;
            }
        }

        Groups.OnMessage(message);
        if (!_incoming.Writer.TryWrite(message))
        {
            try
            {
                await _incoming.Writer.WriteAsync(message).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
            }
        }

        if (MessageReceived is not null)
        {
            RaiseMessageReceived(message);
        }
    }

    /// <summary>Keeps a message from a sender the topology does not name yet, for <see cref="NetworkOptions.UnknownSourceHoldTime"/>.</summary>
    private bool TryHold(NodeId source, string type, ReadOnlyMemory<byte> payload)
    {
        if (_options.UnknownSourceHoldTime <= TimeSpan.Zero || !IsJoined)
        {
            return false;
        }

        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_available.ContainsKey(source))
            {
                // Became available meanwhile: deliver after all.
                _ = Task.Run(() => DeliverHeldAsync(source, [new HeldMessage(type, payload, now)]));
                return true;
            }

            DropExpiredHeld(now);
            if (_heldCount >= _options.MaxHeldMessages)
            {
                return false;
            }

            if (!_held.TryGetValue(source, out List<HeldMessage>? list))
            {
                list = [];
                _held.Add(source, list);
            }

            list.Add(new HeldMessage(type, payload, now));
            _heldCount++;
        }

        Log.MessageHeld(_logger, type, source);
        return true;
    }

    private void DropExpiredHeld(long now)
    {
        if (_heldCount == 0)
        {
            return;
        }

        foreach ((NodeId source, List<HeldMessage> list) in _held.ToList())
        {
            int expired = list.RemoveAll(m => _time.GetElapsedTime(m.Received, now) > _options.UnknownSourceHoldTime);
            _heldCount -= expired;
            for (int i = 0; i < expired; i++)
            {
                Log.MessageDropped(_logger, "(held)", source, "its sender did not become reachable in time");
                CountDropped("unreachable_source");
            }

            if (list.Count == 0)
            {
                _held.Remove(source);
            }
        }
    }

    private async Task DeliverHeldAsync(NodeId source, List<HeldMessage> held)
    {
        long now = _time.GetTimestamp();
        foreach (HeldMessage message in held)
        {
            if (_time.GetElapsedTime(message.Received, now) <= _options.UnknownSourceHoldTime)
            {
                await DeliverAsync(source, message.Type, message.Payload, mayHold: false).ConfigureAwait(false);
            }
        }
    }

    private readonly record struct HeldMessage(string Type, ReadOnlyMemory<byte> Payload, long Received);

    // Separate from DeliverAsync so that the closure is only allocated when somebody listens.
    private void RaiseMessageReceived(Message message) => RaiseEvent(() => MessageReceived?.Invoke(this, new MessageEventArgs(message)));

    private static bool IsSingleItem(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new CborReader(payload);
            reader.SkipValue();
            return reader.IsAtEnd;
        }
        catch (CborException)
        {
            return false;
        }
    }

    private static bool PathContains(IReadOnlyList<PeerPathEntry> path, NodeId id)
    {
        for (int i = 0; i < path.Count; i++)
        {
            if (path[i].Node == id)
            {
                return true;
            }
        }

        return false;
    }

    // Like JavaScript, routes are recomputed before they are used whenever the topology changed since the last
    // computation (WIRE.md §9.5): a hop must never forward on a table that is older than what it knows.
    private Dictionary<NodeId, PeerConnection> CurrentRoutes()
    {
        if (_routesDirty)
        {
            lock (_gate)
            {
                if (_routesDirty && IsJoined)
                {
                    UpdateRoutes();
                }
            }
        }

        return _routes;
    }

    // Must hold _gate.
    private void ScheduleBroadcast()
    {
        if (_broadcastArmed)
        {
            return;
        }

        _broadcastArmed = true;
        _broadcastTimer ??= _time.CreateTimer(static s => ((Network)s!).Broadcast(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _broadcastTimer.Change(_options.TopologyBroadcastDelay, Timeout.InfiniteTimeSpan);
    }

    private void Broadcast()
    {
        try
        {
            BroadcastCore();
        }
#pragma warning disable CA1031 // A timer callback has nobody to throw to: log loudly instead of vanishing.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TimerFailed(_logger, nameof(Broadcast), ex);
        }
    }

    private void BroadcastCore()
    {
        PeerNodeSummary? summary = null;
        List<PeerConnection> connections;
        lock (_gate)
        {
            if (!IsJoined)
            {
                return;
            }

            _broadcastArmed = false;
            if (_routesDirty)
            {
                UpdateRoutes();
            }

            connections = [.. _topology.Connections];
            if (_topology.BroadcastNeeded)
            {
                _topology.BroadcastNeeded = false;
                if (!_options.Endpoint)
                {
                    summary = _topology.CreateSummary();
                }
            }
        }

        if (summary is not null)
        {
            foreach (PeerConnection connection in connections)
            {
                connection.Post(summary);
            }
        }
    }

    // Must hold _gate. Recomputes routes and raises availability changes.
    private void UpdateRoutes()
    {
        _routesDirty = false;
        Dictionary<NodeId, PeerConnection> routes = _topology.ComputeRoutes();
        if (ReferenceEquals(routes, _routes))
        {
            // No route changed (the topology returns the same table), so neither did availability.
            return;
        }

        _routes = routes;
        foreach (NodeId id in routes.Keys)
        {
            if (!_available.ContainsKey(id))
            {
                var node = new Node(this, id);
                _available[id] = node;
                Log.NodeAvailable(_logger, id);
                Groups.OnNodeAvailable(node);
                RaiseEvent(() => NodeAvailable?.Invoke(this, new NodeEventArgs(node)));
                if (_heldCount > 0 && _held.Remove(id, out List<HeldMessage>? held))
                {
                    _heldCount -= held.Count;
                    _ = Task.Run(() => DeliverHeldAsync(id, held));
                }
            }
        }

        // Every routed node is available by now, so only a larger _available has nodes that lost their route.
        if (_available.Count == routes.Count)
        {
            return;
        }

        foreach (NodeId id in _available.Keys.Where(id => !routes.ContainsKey(id)).ToList())
        {
            Node node = _available[id];
            _available.Remove(id);
            node.MarkUnavailable();
            Log.NodeUnavailable(_logger, id);
            Groups.OnNodeUnavailable(node);
            RaiseEvent(() => NodeUnavailable?.Invoke(this, new NodeEventArgs(node)));
        }
    }

    private void Gossip()
    {
        PeerConnection? target = null;
        PeerNodeDetails? gossip = null;
        lock (_gate)
        {
            PeerConnection[] connections = [.. _topology.Connections];
            if (connections.Length > 0)
            {
                target = connections[Random.Shared.Next(connections.Length)];
                gossip = _topology.CreateGossip(target.RemoteId);
            }
        }

        if (target is not null && gossip is not null)
        {
            target.Post(gossip);
        }
    }

    private void Sweep()
    {
        foreach (KeyValuePair<ulong, PendingSend> pending in _pending)
        {
            if (_time.GetElapsedTime(pending.Value.SentAt) >= _options.AckTimeout)
            {
                Fail(pending.Key, pending.Value, MessageDeliveryFailure.Timeout);
            }
        }

        foreach (KeyValuePair<ulong, Forward> forward in _forwards)
        {
            // Forgotten silently, as in JavaScript: the originator times out on its own.
            if (_time.GetElapsedTime(forward.Value.CreatedAt) > _options.AckTimeout)
            {
                _forwards.TryRemove(forward.Key, out _);
            }
        }
    }

    private async Task RunEventLoopAsync()
    {
        await foreach (Action action in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                action();
            }
#pragma warning disable CA1031 // A user's handler must not stop the event loop.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.EventHandlerFailed(_logger, action.Method.Name, ex);
            }
        }
    }

    private sealed record Forward(PeerConnection From, ulong PreviousId, long CreatedAt);

    private sealed class ProtocolHandler(Network network, string prefix, Action<Message> handler) : IDisposable
    {
        public string Prefix { get; } = prefix;

        public Action<Message> Handler { get; } = handler;

        public void Dispose()
        {
            lock (network._gate)
            {
                Volatile.Write(ref network._protocolHandlers, [.. network._protocolHandlers.Where(h => h != this)]);
            }
        }
    }

    private sealed class Host(Network network, ITransport transport) : ITransportHost
    {
        public NodeId LocalId => network.Id;

        public string NetworkName => network.Name;

        public bool IsEndpoint => network._options.Endpoint;

        public ILoggerFactory LoggerFactory => network._options.LoggerFactory;

        public PeerSessionOptions SessionOptions => network._sessionOptions;

        public PeerSession CreateSession(IDuplexPipe connection, PeerRole role, PeerChannelSecurity? security = null, string? connectionName = null, Func<PeerSessionOptions, PeerSessionOptions>? configure = null) =>
            network.CreateSession(connection, role, security, connectionName, configure, transport.Name);

        public Task<NodeId> AttachAsync(PeerSession session, CancellationToken cancellationToken = default) =>
            network.AttachAsync(session, session.ConnectionName, transport, cancellationToken);
    }
}
