using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Ataraxia.Cbor;
using Ataraxia.Internal;
using Microsoft.Extensions.Logging;

namespace Ataraxia;

/// <summary>
/// Services on top of a <see cref="Network"/>: register an object under a service id on any node, and call its methods
/// and subscribe to its events from every node of the mesh, wire-compatible with JavaScript's <c>ataraxia-services</c>
/// (WIRE.md §13).
/// </summary>
/// <remarks>
/// <para>Nodes exchange what they offer through the group <c>services</c>: each node keeps a version of its registrations and
/// tells the members of the group about every change. <see cref="Get"/> gives a <see cref="ServiceReference"/> whose calls go
/// round-robin to the nodes that offer the service, including this one.</para>
/// <para>Events (<see cref="ServiceAvailable"/>, <see cref="ServiceUnavailable"/>, the events of references and remote service
/// events) are raised in order on one loop of their own, never on a connection's read loop; a slow handler delays the next
/// event, not the network. Calls from other nodes run on the thread pool.</para>
/// </remarks>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
public sealed class Services : IAsyncDisposable
{
    /// <summary>The group every node with services joins (as JavaScript's services do).</summary>
    public const string GroupName = "services";

    /// <summary>
    /// The name of the <see cref="ActivitySource"/> of service calls: an activity of kind client for each call this node
    /// sends to a provider, one of kind server for each call it runs for another node. For OpenTelemetry's <c>AddSource</c>.
    /// </summary>
    /// <remarks>Trace context does not travel with a call (the wire format has no field for it): the two activities of a call are not linked.</remarks>
    public const string ActivitySourceName = "Ataraxia.Services";

    private readonly Network _network;
    private readonly ServicesOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly NamedGroup _group;
    private readonly Dictionary<string, LocalService> _local = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeId, RemoteServices> _remote = [];
    private readonly Dictionary<string, ServiceReference> _references = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, PendingCall> _pending = new();
    private readonly ConcurrentDictionary<NodeId, CancellationTokenSource> _callers = new();
    private readonly SemaphoreSlim _callSlots;
    private readonly Channel<Action> _events = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private long _version;
    private long _nextCallId = -1;
    private int _invocations;
    private int _state;
    private IDisposable? _handler;
    private ITimer? _sweep;
    private Task? _eventLoop;

    /// <summary>Creates the services of a network; call <see cref="JoinAsync"/> to take part.</summary>
    /// <param name="network">The network (joined before or after).</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    public Services(Network network, ServicesOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        _network = network;
        _options = options ?? new ServicesOptions();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.CallTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxPendingCalls, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentInvocations, 1, nameof(options));
        _logger = (_options.LoggerFactory ?? network.Options.LoggerFactory).CreateLogger("Ataraxia.Services");
        _time = network.Options.TimeProvider;
        _callSlots = new SemaphoreSlim(_options.MaxPendingCalls, _options.MaxPendingCalls);
        _group = new NamedGroup(network, GroupName);
    }

    /// <summary>Raised when a service becomes available: its first provider appeared.</summary>
    public event EventHandler<ServiceEventArgs>? ServiceAvailable;

    /// <summary>Raised when a service becomes unavailable: its last provider went away.</summary>
    public event EventHandler<ServiceEventArgs>? ServiceUnavailable;

    /// <summary>Gets the network.</summary>
    public Network Network => _network;

    /// <summary>Gets the options.</summary>
    public ServicesOptions Options => _options;

    /// <summary>Gets the services that at least one node offers right now, ordered by id.</summary>
    public IReadOnlyList<ServiceReference> AvailableServices
    {
        get
        {
            lock (_gate)
            {
                return [.. _references.Values.Where(r => r.IsAvailable).OrderBy(r => r.Id, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Gets the number of calls to other nodes that wait for their answer.</summary>
    public int PendingCalls => _pending.Count;

    /// <summary>Starts taking part: joins the <c>services</c> group and asks its members what they offer.</summary>
    /// <param name="cancellationToken">Not used; joining does not wait for other nodes.</param>
    /// <returns>A task that completes when joined.</returns>
    public async ValueTask JoinAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _state) == 2, this);
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            return;
        }

        _eventLoop = Task.Run(RunEventLoopAsync, CancellationToken.None);
        _handler = _network.AddProtocolHandler(ServiceMessages.Prefix, OnMessage);
        _group.MemberAvailable += OnMemberAvailable;
        _group.MemberUnavailable += OnMemberUnavailable;
        _network.NodeUnavailable += OnNodeUnavailable;
        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(_options.CallTimeout.Ticks / 8, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        _sweep = _time.CreateTimer(static s => ((Services)s!).SweepTimeouts(), this, period, period);
        await _group.JoinAsync(cancellationToken).ConfigureAwait(false);
        foreach (Node member in _group.Members)
        {
            RequestList(member.Id);
        }
    }

    /// <summary>
    /// Offers <paramref name="implementation"/> as the service <paramref name="id"/>. When <typeparamref name="TService"/> is an
    /// interface, its methods and events make up the service; for a class, its public instance methods and events do.
    /// </summary>
    /// <typeparam name="TService">The contract: usually an interface, or the implementation's own class.</typeparam>
    /// <param name="id">The service id.</param>
    /// <param name="implementation">The object whose methods are called.</param>
    /// <returns>A registration; disposing it withdraws the service.</returns>
    /// <exception cref="InvalidOperationException">The id is already registered on this node, or the contract cannot be mapped (the message says why).</exception>
    public ServiceRegistration Register<TService>(string id, TService implementation)
        where TService : class
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(implementation);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _state) == 2, this);
        return Add(new LocalService(this, id, implementation, ServiceContract.For(typeof(TService))));
    }

    /// <summary>
    /// Offers a service whose methods are listed by <paramref name="definition"/> and answered by
    /// <paramref name="handler"/>: for services whose methods are only known at run time (a gateway, a command runner).
    /// </summary>
    /// <param name="id">The service id; it must equal <paramref name="definition"/>'s <see cref="ServiceDefinition.Id"/>.</param>
    /// <param name="definition">What other nodes see: the methods that can be called. Events are not supported here.</param>
    /// <param name="handler">
    /// Runs each call of a method of the definition, from this node or another, with the caller's node id, the method
    /// name and the arguments as sent; its result is the call's result. An exception it throws fails the call with its
    /// message (<see cref="ServiceCallFailure.RemoteError"/> for the caller). The token is cancelled when the services
    /// of this node are disposed. Calls of methods the definition does not list are refused before the handler runs.
    /// </param>
    /// <returns>A registration; disposing it withdraws the service.</returns>
    /// <exception cref="ArgumentException">The ids differ, the definition lists events, or two methods share a name.</exception>
    /// <exception cref="InvalidOperationException">The id is already registered on this node.</exception>
    public ServiceRegistration Register(string id, ServiceDefinition definition, Func<ServiceInvocation, CancellationToken, ValueTask<CborValue>> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _state) == 2, this);
        if (definition.Id != id)
        {
            throw new ArgumentException($"The definition describes `{definition.Id}`, not `{id}`.", nameof(definition));
        }

        if (definition.Events.Count > 0)
        {
            throw new ArgumentException("A service registered with a handler has no events.", nameof(definition));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (ServiceMethodDefinition method in definition.Methods)
        {
            ArgumentNullException.ThrowIfNull(method, nameof(definition));
            if (string.IsNullOrEmpty(method.Name) || !names.Add(method.Name))
            {
                throw new ArgumentException($"The definition of `{id}` has an empty or repeated method name `{method.Name}`.", nameof(definition));
            }
        }

        return Add(new LocalService(this, definition, handler));
    }

    private ServiceRegistration Add(LocalService local)
    {
        string id = local.Id;
        long version;
        lock (_gate)
        {
            if (!_local.TryAdd(id, local))
            {
                throw new InvalidOperationException($"The service `{id}` is already registered on this node.");
            }

            version = ++_version;
            UpdateProviders(id);
        }

        ServicesLog.Registered(_logger, id, version);
        Broadcast(ServiceMessages.Available, ServiceMessages.AvailablePayload(version, local.Definition));
        return new ServiceRegistration(this, local);
    }

    /// <summary>Gets the reference to a service, whether or not any node offers it yet.</summary>
    /// <param name="id">The service id.</param>
    /// <returns>The reference; the same instance for the same id.</returns>
    public ServiceReference Get(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        lock (_gate)
        {
            return GetReference(id);
        }
    }

    /// <summary>Withdraws every local service, stops waiting calls and leaves the <c>services</c> group.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) == 2)
        {
            return;
        }

        LocalService[] locals;
        lock (_gate)
        {
            locals = [.. _local.Values];
        }

        foreach (LocalService local in locals)
        {
            Unregister(local);
        }

        _handler?.Dispose();
        _group.MemberAvailable -= OnMemberAvailable;
        _group.MemberUnavailable -= OnMemberUnavailable;
        _network.NodeUnavailable -= OnNodeUnavailable;
        if (_sweep is not null)
        {
            await _sweep.DisposeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (NodeId caller in _callers.Keys)
        {
            if (_callers.TryRemove(caller, out CancellationTokenSource? calls))
            {
                calls.Dispose();
            }
        }

        foreach (PendingCall call in _pending.Values)
        {
            call.TrySetException(call.Failure(ServiceCallFailure.Disposed, "The services of this node were disposed before the call was answered."));
        }

        await _group.DisposeAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
        if (_eventLoop is not null)
        {
            await _eventLoop.ConfigureAwait(false);
        }
    }

    internal NodeId LocalId => _network.Id;

    internal TimeSpan CallTimeout => _options.CallTimeout;

    internal void Unregister(LocalService local)
    {
        long version;
        bool last;
        lock (_gate)
        {
            if (!_local.TryGetValue(local.Id, out LocalService? current) || current != local)
            {
                return;
            }

            _local.Remove(local.Id);
            version = ++_version;
            last = true;
            UpdateProviders(local.Id);
        }

        local.Dispose();
        ServicesLog.Unregistered(_logger, local.Id, version);
        if (last)
        {
            Broadcast(ServiceMessages.Unavailable, ServiceMessages.UnavailablePayload(version, local.Id));
        }
    }

    internal LocalService? FindLocal(string id)
    {
        lock (_gate)
        {
            return _local.GetValueOrDefault(id);
        }
    }

    /// <summary>Calls a method on one provider and returns the raw result.</summary>
    internal Task<CborValue> InvokeAsync(ServiceInstance provider, string service, string method, CborArray arguments, CancellationToken cancellationToken) =>
        ServicesTelemetry.Source.HasListeners()
            ? InvokeTracedAsync(provider, service, method, arguments, cancellationToken)
            : InvokeCoreAsync(provider, service, method, arguments, null, cancellationToken);

    // The activity starts inside an async method, so that Activity.Current returns to the caller's own once the call ends.
    private async Task<CborValue> InvokeTracedAsync(ServiceInstance provider, string service, string method, CborArray arguments, CancellationToken cancellationToken)
    {
        using Activity? activity = ServicesTelemetry.StartClient(_network, provider.Node, service, method);
        try
        {
            return await InvokeCoreAsync(provider, service, method, arguments, activity, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            ServicesTelemetry.SetError(activity, ex);
            throw;
        }
    }

    private async Task<CborValue> InvokeCoreAsync(ServiceInstance provider, string service, string method, CborArray arguments, Activity? activity, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _state) == 2)
        {
            throw new ServiceCallException(ServiceCallFailure.Disposed, service, method, provider.Node, "The services of this node are disposed.");
        }

        if (provider.IsLocal)
        {
            return await InvokeLocallyAsync(service, method, arguments, cancellationToken).ConfigureAwait(false);
        }

        await _callSlots.WaitAsync(cancellationToken).ConfigureAwait(false);

        long id = Interlocked.Increment(ref _nextCallId);
        activity?.SetTag(ServicesTelemetry.CallIdTag, id);
        var call = new PendingCall(id, provider.Node, service, method, _time.GetTimestamp() + (long)(_options.CallTimeout.TotalSeconds * _time.TimestampFrequency));
        _pending[id] = call;
        try
        {
            if (!Offers(provider.Node, service))
            {
                // The provider went between choosing it and registering the call, so its departure did not fail this call.
                throw call.Failure(ServiceCallFailure.ProviderLeft, $"Node {provider.Node} no longer offers `{service}`.");
            }

            byte[] payload = ServiceMessages.InvokeRequestPayload(id, service, method, arguments).Encode();
            using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static (s, token) => ((PendingCall)s!).TrySetCanceled(token), call)
                : default;
            // The answer can come before the acknowledgement of the request; wait for whichever settles the call first.
            _ = SendRequestAsync(call, payload, cancellationToken);
            return await call.Task.ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
            _callSlots.Release();
        }
    }

    private async Task SendRequestAsync(PendingCall call, byte[] payload, CancellationToken cancellationToken)
    {
        int pause = 1;
        while (true)
        {
            try
            {
                await _network.SendEncodedAsync(call.Provider, ServiceMessages.InvokeRequest, payload, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (MessageDeliveryException ex) when (ex.Failure == MessageDeliveryFailure.Rejected && _time.GetTimestamp() < call.Deadline && !call.Task.IsCompleted)
            {
                // A router refused it because its next hop is congested: it was not delivered, so sending again is safe.
                pause = await PauseAsync(pause, cancellationToken).ConfigureAwait(false);
            }
            catch (MessageDeliveryException ex) when (ex.Failure is MessageDeliveryFailure.NoRoute or MessageDeliveryFailure.Rejected)
            {
                call.TrySetException(call.Failure(ServiceCallFailure.DeliveryFailed, $"The call of `{call.Method}` on `{call.Service}` could not be delivered to node {call.Provider}: {ex.Message}", ex));
                return;
            }
            catch (MessageDeliveryException)
            {
                // The connection closed or the hop did not acknowledge in time: the request may have arrived all the same.
                // The answer, the provider's departure or the call timeout settles the call.
                return;
            }
            catch (OperationCanceledException)
            {
                call.TrySetCanceled(cancellationToken.IsCancellationRequested ? cancellationToken : _stopping.Token);
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
            {
                call.TrySetException(call.Failure(ServiceCallFailure.DeliveryFailed, $"The call of `{call.Method}` on `{call.Service}` could not be sent: {ex.Message}", ex));
                return;
            }
        }
    }

    private bool Offers(NodeId node, string service)
    {
        lock (_gate)
        {
            return _remote.TryGetValue(node, out RemoteServices? remote) && remote.Services.ContainsKey(service);
        }
    }

    internal void Subscribe(ServiceReference reference, string eventName, IReadOnlyList<ServiceInstance> providers)
    {
        foreach (ServiceInstance provider in providers)
        {
            SendSubscription(reference.Id, eventName, provider, subscribe: true);
        }
    }

    internal void Unsubscribe(ServiceReference reference, string eventName, IReadOnlyList<ServiceInstance> providers)
    {
        foreach (ServiceInstance provider in providers)
        {
            SendSubscription(reference.Id, eventName, provider, subscribe: false);
        }
    }

    /// <summary>Sends one occurrence of a local service's event to its subscribers.</summary>
    internal void Emit(LocalService service, ServiceEvent serviceEvent, object?[] values, NodeId[] subscribers)
    {
        CborArray arguments;
        try
        {
            arguments = serviceEvent.ToArguments(values);
        }
        catch (CborException ex)
        {
            OnEventSourceFailed(service.Id, serviceEvent.Name, ex);
            return;
        }

        byte[]? payload = null;
        foreach (NodeId subscriber in subscribers)
        {
            if (subscriber == _network.Id)
            {
                DeliverEvent(subscriber, service.Id, serviceEvent.Name, arguments);
            }
            else
            {
                payload ??= ServiceMessages.EventEmitPayload(service.Id, serviceEvent.Name, arguments).Encode();
                Send(subscriber, ServiceMessages.EventEmit, payload);
            }
        }
    }

    internal void OnEventSourceFailed(string service, string eventName, Exception exception) =>
        ServicesLog.EventSourceFailed(_logger, service, eventName, exception);

    /// <summary>Runs an action on the services' event loop, in order with the other events.</summary>
    internal void Raise(Action action) => _events.Writer.TryWrite(action);

    internal void RaiseHandler<T>(EventHandler<T>? handler, object sender, T args)
    {
        if (handler is not null)
        {
            Raise(() => handler(sender, args));
        }
    }

    internal void RunHandler(string what, Action handler)
    {
        try
        {
            handler();
        }
#pragma warning disable CA1031 // An application's handler must not stop the loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ServicesLog.HandlerFailed(_logger, what, ex);
        }
    }

    private static string StripSuffix(string error, string service, string method)
    {
        string suffix = $" (method `{method}` on `{service}`)";
        return error.EndsWith(suffix, StringComparison.Ordinal) ? error[..^suffix.Length] : error;
    }

    private async Task<CborValue> InvokeLocallyAsync(string service, string method, CborArray arguments, CancellationToken cancellationToken)
    {
        LocalService? local = FindLocal(service);
        if (local is null)
        {
            throw new ServiceCallException(ServiceCallFailure.NotAvailable, service, method, _network.Id, $"Service with id `{service}` is not available");
        }

        try
        {
            return await local.InvokeAsync(_network.Id, method, arguments, cancellationToken).AsTask().WaitAsync(_options.CallTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new ServiceCallException(ServiceCallFailure.Timeout, service, method, _network.Id, $"The call of `{method}` on `{service}` was not answered within {_options.CallTimeout}.", ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not ServiceCallException)
        {
            string message = ErrorMessage(ex, service, method);
            throw new ServiceCallException(ServiceCallFailure.RemoteError, service, method, _network.Id, message, ex)
            {
                RemoteMessage = StripSuffix(message, service, method),
                RemoteType = ex.GetType().FullName,
            };
        }
    }

    private static string ErrorMessage(Exception exception, string service, string method) =>
        $"{exception.Message} (method `{method}` on `{service}`)";

    private ServiceReference GetReference(string id)
    {
        if (!_references.TryGetValue(id, out ServiceReference? reference))
        {
            reference = new ServiceReference(this, id);
            _references.Add(id, reference);
        }

        return reference;
    }

    /// <summary>Recomputes the providers of a service id; call under <see cref="_gate"/>.</summary>
    private void UpdateProviders(string id)
    {
        var providers = new List<ServiceInstance>();
        if (_local.TryGetValue(id, out LocalService? local))
        {
            providers.Add(new ServiceInstance(_network.Id, local.Definition, IsLocal: true));
        }

        foreach (RemoteServices remote in _remote.Values)
        {
            if (remote.Services.TryGetValue(id, out ServiceDefinition? definition))
            {
                providers.Add(new ServiceInstance(remote.Node, definition, IsLocal: false));
            }
        }

        providers.Sort(static (a, b) => a.Node.CompareTo(b.Node));
        ServiceReference reference = GetReference(id);
        (bool wasAvailable, ServiceInstance[] added) = reference.SetProviders([.. providers]);
        bool isAvailable = providers.Count > 0;
        if (added.Length > 0)
        {
            reference.OnProvidersAdded(added);
        }

        if (wasAvailable != isAvailable)
        {
            NodeId cause = isAvailable ? providers[0].Node : reference.LastRemoved;
            var args = new ServiceEventArgs(reference, cause);
            Raise(() =>
            {
                reference.RaiseAvailability(isAvailable, args);
                (isAvailable ? ServiceAvailable : ServiceUnavailable)?.Invoke(this, args);
            });
        }
    }

    private void OnMemberAvailable(object? sender, NodeEventArgs e) => RequestList(e.Node.Id);

    // Both events arrive on the network's event loop, after the fact: a node that is back (reachable and a member again)
    // by the time the event runs must keep what it told us since.
    private void OnMemberUnavailable(object? sender, NodeEventArgs e)
    {
        if (!_group.Members.Any(m => m.Id == e.Node.Id))
        {
            OnNodeGone(e.Node.Id);
        }
    }

    private void OnNodeUnavailable(object? sender, NodeEventArgs e)
    {
        if (!_network.TryGetNode(e.Node.Id, out Node? node) || !node.IsAvailable)
        {
            OnNodeGone(e.Node.Id);
        }
    }

    private void RequestList(NodeId node)
    {
        long lastVersion;
        lock (_gate)
        {
            lastVersion = _remote.TryGetValue(node, out RemoteServices? remote) ? remote.Version : 0;
        }

        Send(node, ServiceMessages.ListRequest, ServiceMessages.ListRequestPayload(lastVersion).Encode());
    }

    /// <summary>A node left the mesh or the group: forget what it offered, fail the calls it owes, drop its subscriptions.</summary>
    /// <summary>
    /// The token of the calls a node makes here: cancelled when that node leaves (nobody waits for the answer any more) or
    /// when these services are disposed. One per calling node, shared by its calls.
    /// </summary>
    private CancellationToken CallerToken(NodeId caller)
    {
        if (_callers.TryGetValue(caller, out CancellationTokenSource? existing))
        {
            return existing.Token;
        }

        var created = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        CancellationTokenSource source = _callers.GetOrAdd(caller, created);
        if (source != created)
        {
            created.Dispose();
        }

        return source.Token;
    }

    private static async Task CancelCallsAsync(CancellationTokenSource calls)
    {
        // Off the event loop: the implementations' cancellation callbacks run on the thread pool.
        await calls.CancelAsync().ConfigureAwait(false);
        calls.Dispose();
    }

    private void OnNodeGone(NodeId node)
    {
        if (_callers.TryRemove(node, out CancellationTokenSource? calls))
        {
            _ = CancelCallsAsync(calls);
        }

        LocalService[] locals;
        lock (_gate)
        {
            if (_remote.Remove(node, out RemoteServices? remote))
            {
                foreach (string id in remote.Services.Keys)
                {
                    UpdateProviders(id);
                }
            }

            locals = [.. _local.Values];
        }

        foreach (PendingCall call in _pending.Values)
        {
            if (call.Provider == node)
            {
                call.TrySetException(call.Failure(ServiceCallFailure.ProviderLeft, $"Node {node} left before it answered the call of `{call.Method}` on `{call.Service}`."));
            }
        }

        foreach (LocalService local in locals)
        {
            local.RemoveSubscriber(node);
        }
    }

    private void OnMessage(Message message)
    {
        if (Volatile.Read(ref _state) != 1)
        {
            return;
        }

        NodeId source = message.Source.Id;
        try
        {
            CborMap payload = message.Data.AsMap();
            switch (message.Type)
            {
                case ServiceMessages.ListRequest:
                    OnListRequest(source, ServiceMessages.ReadVersion(payload, "lastVersion"));
                    break;
                case ServiceMessages.ListReply:
                    OnListReply(source, payload);
                    break;
                case ServiceMessages.Available:
                    OnAvailable(source, ServiceMessages.ReadVersion(payload, "version"), ServiceDefinition.FromCbor(payload["def"]));
                    break;
                case ServiceMessages.Unavailable:
                    OnUnavailable(source, ServiceMessages.ReadVersion(payload, "version"), ServiceMessages.ReadText(payload, "service"));
                    break;
                case ServiceMessages.InvokeRequest:
                    OnInvokeRequest(
                        source,
                        payload["id"].AsInt64(),
                        ServiceMessages.ReadText(payload, "service"),
                        ServiceMessages.ReadText(payload, "method"),
                        ServiceMessages.ReadArguments(payload));
                    break;
                case ServiceMessages.InvokeReply:
                    OnInvokeReply(source, payload);
                    break;
                case ServiceMessages.EventSubscribe:
                case ServiceMessages.EventUnsubscribe:
                    OnSubscription(
                        source,
                        ServiceMessages.ReadText(payload, "service"),
                        ServiceMessages.ReadText(payload, "event"),
                        message.Type == ServiceMessages.EventSubscribe);
                    break;
                case ServiceMessages.EventEmit:
                    DeliverEvent(
                        source,
                        ServiceMessages.ReadText(payload, "service"),
                        ServiceMessages.ReadText(payload, "event"),
                        ServiceMessages.ReadArguments(payload));
                    break;
                default:
                    ServicesLog.Ignored(_logger, message.Type, source, "unknown service message");
                    break;
            }
        }
        catch (Exception ex) when (ex is CborException or InvalidOperationException or KeyNotFoundException)
        {
            ServicesLog.Malformed(_logger, message.Type, source, ex.Message);
        }
    }

    private void OnListRequest(NodeId source, long lastVersion)
    {
        CborMap reply;
        lock (_gate)
        {
            if (lastVersion == _version)
            {
                return;
            }

            reply = ServiceMessages.ListReplyPayload(_version, [.. _local.Values.Select(l => l.Definition)]);
        }

        Send(source, ServiceMessages.ListReply, reply.Encode());
    }

    private void OnListReply(NodeId source, CborMap payload)
    {
        long version = ServiceMessages.ReadVersion(payload, "version");
        var services = new Dictionary<string, ServiceDefinition>(StringComparer.Ordinal);
        if (payload.GetValueOrDefault("services") is CborArray list)
        {
            foreach (CborValue item in list)
            {
                ServiceDefinition definition = ServiceDefinition.FromCbor(item);
                services[definition.Id] = definition;
            }
        }

        lock (_gate)
        {
            RemoteServices remote = GetRemote(source);
            var changed = new HashSet<string>(remote.Services.Keys, StringComparer.Ordinal);
            changed.UnionWith(services.Keys);
            remote.Services.Clear();
            foreach ((string id, ServiceDefinition definition) in services)
            {
                remote.Services[id] = definition;
            }

            remote.Version = version;
            foreach (string id in changed)
            {
                UpdateProviders(id);
            }
        }

        ServicesLog.RemoteList(_logger, source, services.Count, version);
    }

    private void OnAvailable(NodeId source, long version, ServiceDefinition definition) =>
        ApplyRemoteChange(source, version, definition.Id, "available", remote =>
        {
            remote.Services[definition.Id] = definition;
            return true;
        });

    private void OnUnavailable(NodeId source, long version, string id) =>
        ApplyRemoteChange(source, version, id, "unavailable", remote => remote.Services.Remove(id));

    /// <summary>
    /// Applies one change a node announced. A version that is not exactly the next one means a change was missed, so the
    /// whole list is asked for as well (WIRE.md §13).
    /// </summary>
    private void ApplyRemoteChange(NodeId source, long version, string id, string change, Func<RemoteServices, bool> apply)
    {
        bool gap;
        lock (_gate)
        {
            RemoteServices remote = GetRemote(source);
            gap = version != remote.Version + 1;
            if (!gap)
            {
                remote.Version = version;
            }

            if (apply(remote))
            {
                UpdateProviders(id);
            }
        }

        ServicesLog.RemoteChange(_logger, id, source, change);
        if (gap)
        {
            RequestList(source);
        }
    }

    private RemoteServices GetRemote(NodeId node)
    {
        if (!_remote.TryGetValue(node, out RemoteServices? remote))
        {
            remote = new RemoteServices(node);
            _remote.Add(node, remote);
        }

        return remote;
    }

    private void OnInvokeRequest(NodeId caller, long id, string service, string method, CborArray arguments)
    {
        if (Interlocked.Increment(ref _invocations) > _options.MaxConcurrentInvocations)
        {
            Interlocked.Decrement(ref _invocations);
            ServicesLog.InvocationRefused(_logger, id, service, method, caller, _options.MaxConcurrentInvocations);
            Reply(caller, ServiceMessages.InvokeErrorPayload(id, $"The node is busy: {_options.MaxConcurrentInvocations} calls are running (method `{method}` on `{service}`)", typeof(InvalidOperationException).FullName));
            return;
        }

        var invocation = new Invocation(this, caller, id, service, method, arguments);
        ThreadPool.UnsafeQueueUserWorkItem(static i => _ = i.Services.RunInvocationAsync(i), invocation, preferLocal: false);
    }

    private async Task RunInvocationAsync(Invocation invocation)
    {
        using Activity? activity = ServicesTelemetry.StartServer(_network, invocation.Caller, invocation.Id, invocation.Service, invocation.Method);
        CborMap reply;
        try
        {
            LocalService? local = FindLocal(invocation.Service);
            if (local is null)
            {
                string error = $"Service with id `{invocation.Service}` is not available";
                ServicesTelemetry.SetError(activity, nameof(ServiceCallFailure.NotAvailable), error);
                reply = ServiceMessages.InvokeErrorPayload(invocation.Id, error, null);
            }
            else
            {
                CborValue result = await local.InvokeAsync(invocation.Caller, invocation.Method, invocation.Arguments, CallerToken(invocation.Caller)).ConfigureAwait(false);
                reply = ServiceMessages.InvokeResultPayload(invocation.Id, result);
            }
        }
        catch (Exception ex)
        {
            ServicesLog.InvocationFailed(_logger, invocation.Id, invocation.Service, invocation.Method, invocation.Caller, ex.Message);
            ServicesTelemetry.SetError(activity, ex);
            reply = ServiceMessages.InvokeErrorPayload(invocation.Id, ErrorMessage(ex, invocation.Service, invocation.Method), ex.GetType().FullName);
        }
        finally
        {
            Interlocked.Decrement(ref _invocations);
        }

        Reply(invocation.Caller, reply);
    }

    private void Reply(NodeId caller, CborMap reply) => Send(caller, ServiceMessages.InvokeReply, reply.Encode());

    private void OnInvokeReply(NodeId source, CborMap payload)
    {
        long id = payload["id"].AsInt64();
        if (!_pending.TryGetValue(id, out PendingCall? call) || call.Provider != source)
        {
            // JavaScript sends a second reply after every error reply (WIRE.md §13); late replies land here too.
            ServicesLog.ReplyIgnored(_logger, source, id);
            return;
        }

        if (payload.GetValueOrDefault("error") is CborText error)
        {
            string? type = payload.GetValueOrDefault(ServiceMessages.ErrorTypeKey) is CborText t ? t.Value : null;
            call.TrySetException(new ServiceCallException(ServiceCallFailure.RemoteError, call.Service, call.Method, source, error.Value)
            {
                RemoteMessage = StripSuffix(error.Value, call.Service, call.Method),
                RemoteType = type,
            });
        }
        else
        {
            call.TrySetResult(payload.GetValueOrDefault("result") ?? CborValue.Undefined);
        }
    }

    private void OnSubscription(NodeId source, string service, string eventName, bool subscribe)
    {
        LocalService? local = FindLocal(service);
        if (local is null)
        {
            ServicesLog.SubscriptionIgnored(_logger, subscribe ? ServiceMessages.EventSubscribe : ServiceMessages.EventUnsubscribe, source, service, eventName);
            return;
        }

        if (!subscribe)
        {
            local.Unsubscribe(eventName, source);
        }
        else if (!local.Subscribe(eventName, source))
        {
            ServicesLog.SubscriptionIgnored(_logger, ServiceMessages.EventSubscribe, source, service, eventName);
        }
    }

    private void SendSubscription(string service, string eventName, ServiceInstance provider, bool subscribe)
    {
        if (provider.IsLocal)
        {
            OnSubscription(_network.Id, service, eventName, subscribe);
        }
        else
        {
            Send(provider.Node, subscribe ? ServiceMessages.EventSubscribe : ServiceMessages.EventUnsubscribe, ServiceMessages.EventPayload(service, eventName).Encode());
        }
    }

    private void DeliverEvent(NodeId source, string service, string eventName, CborArray arguments)
    {
        ServiceReference? reference;
        lock (_gate)
        {
            reference = _references.GetValueOrDefault(service);
        }

        reference?.DeliverEvent(source, eventName, arguments);
    }

    private void Broadcast(string type, CborMap payload)
    {
        if (Volatile.Read(ref _state) != 1)
        {
            return;
        }

        byte[] encoded = payload.Encode();
        foreach (Node member in _group.Members)
        {
            Send(member.Id, type, encoded);
        }
    }

    /// <summary>
    /// Sends a message without waiting. When a router refuses it because its next hop is congested (so it was not
    /// delivered), tries again after a pause of 1 ms doubling to 100 ms, for up to the call timeout; other failures are logged.
    /// </summary>
    private void Send(NodeId target, string type, byte[] payload) => _ = SendInBackgroundAsync(target, type, payload);

    private async Task SendInBackgroundAsync(NodeId target, string type, byte[] payload)
    {
        long deadline = _time.GetTimestamp() + (long)(_options.CallTimeout.TotalSeconds * _time.TimestampFrequency);
        int pause = 1;
        while (true)
        {
            try
            {
                await _network.SendEncodedAsync(target, type, payload, _stopping.Token).ConfigureAwait(false);
                return;
            }
            catch (MessageDeliveryException ex) when (ex.Failure == MessageDeliveryFailure.Rejected && _time.GetTimestamp() < deadline)
            {
                try
                {
                    pause = await PauseAsync(pause, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is MessageDeliveryException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                ServicesLog.SendFailed(_logger, type, target, ex.Message);
                return;
            }
        }
    }

    private async Task<int> PauseAsync(int pause, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(pause), _time, cancellationToken).ConfigureAwait(false);
        return Math.Min(pause * 2, 100);
    }

    private void SweepTimeouts()
    {
        if (_pending.IsEmpty)
        {
            return;
        }

        long now = _time.GetTimestamp();
        foreach (PendingCall call in _pending.Values)
        {
            if (now >= call.Deadline)
            {
                call.TrySetException(call.Failure(
                    ServiceCallFailure.Timeout,
                    $"Node {call.Provider} did not answer the call of `{call.Method}` on `{call.Service}` within {_options.CallTimeout}."));
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
#pragma warning disable CA1031 // An application's handler must not stop the loop.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ServicesLog.HandlerFailed(_logger, "a services event", ex);
            }
        }
    }

    private sealed class RemoteServices(NodeId node)
    {
        public NodeId Node { get; } = node;

        public long Version { get; set; }

        public Dictionary<string, ServiceDefinition> Services { get; } = new(StringComparer.Ordinal);
    }

    private sealed record Invocation(Services Services, NodeId Caller, long Id, string Service, string Method, CborArray Arguments);
}
