using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Ataraxia.Cbor;
using Ataraxia.Internal;

namespace Ataraxia;

/// <summary>
/// A service of the mesh, by id: whether any node offers it, untyped calls, a typed proxy (<see cref="As{T}"/>) and its events.
/// Calls go round-robin to the nodes that offer the service right now.
/// </summary>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
public sealed class ServiceReference
{
    private readonly Services _services;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<EventListener>> _listeners = new(StringComparer.Ordinal);
    private ServiceInstance[] _providers = [];
    private TaskCompletionSource? _availableSignal;
    private uint _next;

    internal ServiceReference(Services services, string id)
    {
        _services = services;
        Id = id;
    }

    /// <summary>Raised when the service becomes available (its first provider appeared).</summary>
    public event EventHandler<ServiceEventArgs>? Available;

    /// <summary>Raised when the service becomes unavailable (its last provider went away).</summary>
    public event EventHandler<ServiceEventArgs>? Unavailable;

    /// <summary>Gets the service id.</summary>
    public string Id { get; }

    /// <summary>Gets a value indicating whether at least one node offers the service.</summary>
    public bool IsAvailable => Volatile.Read(ref _providers).Length > 0;

    /// <summary>Gets the nodes that offer the service, ordered by node id.</summary>
    public IReadOnlyList<ServiceInstance> Providers => Volatile.Read(ref _providers);

    /// <summary>Gets the definition of the first provider, or <see langword="null"/> when none offers the service.</summary>
    public ServiceDefinition? Definition => Volatile.Read(ref _providers) is [ServiceInstance first, ..] ? first.Definition : null;

    internal NodeId LastRemoved { get; private set; }

    /// <summary>Waits until at least one node offers the service.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the service is available.</returns>
    public Task WaitUntilAvailableAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (IsAvailable)
            {
                return Task.CompletedTask;
            }

            signal = _availableSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return signal.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Calls a method that returns nothing (or whose result does not matter).</summary>
    /// <param name="method">The method name on the wire.</param>
    /// <param name="arguments">The arguments, each mapped by its runtime type (see <see cref="CborSerializer"/>).</param>
    /// <returns>A task that completes when the provider answered.</returns>
    /// <exception cref="ServiceCallException">The call failed; <see cref="ServiceCallException.Failure"/> says why.</exception>
    public Task CallAsync(string method, params object?[] arguments) => CallAsync<CborValue>(method, arguments);

    /// <summary>Calls a method that returns nothing (or whose result does not matter).</summary>
    /// <param name="method">The method name on the wire.</param>
    /// <param name="arguments">The arguments, each mapped by its runtime type.</param>
    /// <param name="cancellationToken">Stops waiting for the answer (the provider may still run the call).</param>
    /// <returns>A task that completes when the provider answered.</returns>
    /// <exception cref="ServiceCallException">The call failed; <see cref="ServiceCallException.Failure"/> says why.</exception>
    public Task CallAsync(string method, IReadOnlyList<object?> arguments, CancellationToken cancellationToken) =>
        CallAsync<CborValue>(method, arguments, cancellationToken);

    /// <summary>Calls a method and maps its result to <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The result type (<see cref="CborValue"/> for the raw value).</typeparam>
    /// <param name="method">The method name on the wire.</param>
    /// <param name="arguments">The arguments, each mapped by its runtime type. To pass a cancellation token use the overload that takes one.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ServiceCallException">The call failed; <see cref="ServiceCallException.Failure"/> says why.</exception>
    public Task<T?> CallAsync<T>(string method, params object?[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (arguments is [.., CancellationToken])
        {
            throw new ArgumentException("A CancellationToken is not a service argument; use CallAsync(method, arguments, cancellationToken).", nameof(arguments));
        }

        return CallAsync<T>(method, arguments, CancellationToken.None);
    }

    /// <summary>Calls a method and maps its result to <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The result type (<see cref="CborValue"/> for the raw value).</typeparam>
    /// <param name="method">The method name on the wire.</param>
    /// <param name="arguments">The arguments, each mapped by its runtime type.</param>
    /// <param name="cancellationToken">Stops waiting for the answer (the provider may still run the call).</param>
    /// <returns>The result.</returns>
    /// <exception cref="ServiceCallException">The call failed; <see cref="ServiceCallException.Failure"/> says why.</exception>
    public async Task<T?> CallAsync<T>(string method, IReadOnlyList<object?> arguments, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(arguments);
        CborArray values = MapArguments(method, arguments, null);
        CborValue result = await InvokeAsync(method, values, cancellationToken).ConfigureAwait(false);
        return MapResult<T>(method, result);
    }

    /// <summary>
    /// Calls a method on every node that offers the service and collects the answers until all arrived or <paramref name="timeout"/>
    /// passed; the providers that did not answer in time are listed, not thrown.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="method">The method name on the wire.</param>
    /// <param name="arguments">The arguments, each mapped by its runtime type.</param>
    /// <param name="timeout">How long to collect answers.</param>
    /// <param name="cancellationToken">Stops collecting (throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The answers that arrived and the providers that did not answer.</returns>
    public async Task<ServiceCallAllResult<T>> CallAllAsync<T>(string method, IReadOnlyList<object?> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        CborArray values = MapArguments(method, arguments, null);
        ServiceInstance[] providers = Volatile.Read(ref _providers);
        var replies = new List<ServiceReply<T>>(providers.Length);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var calls = new Dictionary<Task, ServiceInstance>(providers.Length);
        foreach (ServiceInstance provider in providers)
        {
            calls.Add(CallOneAsync<T>(provider, method, values, deadline.Token), provider);
        }

        while (calls.Count > 0)
        {
            Task done = await Task.WhenAny(calls.Keys).ConfigureAwait(false);
            ServiceInstance provider = calls[done];
            calls.Remove(done);
            if (done is Task<T?> { IsCompletedSuccessfully: true } success)
            {
                replies.Add(new ServiceReply<T>(provider.Node, await success.ConfigureAwait(false), null));
            }
            else if (done.Exception?.InnerException is ServiceCallException failure)
            {
                replies.Add(new ServiceReply<T>(provider.Node, default, failure));
            }
            else
            {
                cancellationToken.ThrowIfCancellationRequested();
                calls.Add(done, provider); // cancelled by the deadline: not answered
                break;
            }
        }

        NodeId[] missing = [.. calls.Values.Select(p => p.Node).OrderBy(n => n)];
        return new ServiceCallAllResult<T>(replies, missing);
    }

    /// <summary>
    /// Creates a typed proxy whose methods call the service. Methods must return <see cref="Task"/>, <see cref="Task{TResult}"/>,
    /// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/> (a call), or <see cref="IAsyncEnumerable{T}"/> (a subscription to the
    /// event of the same name), and may take a trailing <see cref="CancellationToken"/>. Its .NET events are remote event subscriptions.
    /// </summary>
    /// <typeparam name="T">An interface.</typeparam>
    /// <returns>The proxy.</returns>
    /// <exception cref="InvalidOperationException">The interface has a member that cannot be mapped; the message names it.</exception>
    public T As<T>()
        where T : class => ServiceProxy.Create<T>(this);

    /// <summary>Subscribes to an event of the service on every node that offers it (now and later).</summary>
    /// <param name="eventName">The event name on the wire.</param>
    /// <param name="handler">Called with the raw arguments of each occurrence, on the services' event loop.</param>
    /// <returns>A subscription; dispose it to unsubscribe.</returns>
    public IDisposable Subscribe(string eventName, Action<CborArray> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return AddListener(eventName, (_, arguments) => handler(arguments), handler);
    }

    /// <summary>Subscribes to an event and maps its first argument to <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The type of the event's value.</typeparam>
    /// <param name="eventName">The event name on the wire.</param>
    /// <param name="handler">Called for each occurrence, on the services' event loop. Occurrences whose value cannot be mapped are logged and skipped.</param>
    /// <returns>A subscription; dispose it to unsubscribe.</returns>
    public IDisposable Subscribe<T>(string eventName, Action<T?> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return AddListener(eventName, (_, arguments) => handler(MapEventValue<T>(eventName, arguments)), handler);
    }

    /// <summary>Reads the occurrences of an event as a stream; the subscription lasts while the stream is read.</summary>
    /// <typeparam name="T">The type of the event's (first) value.</typeparam>
    /// <param name="eventName">The event name on the wire.</param>
    /// <param name="cancellationToken">Ends the stream and the subscription.</param>
    /// <returns>The values, in the order they arrived. Up to 1,024 unread values are buffered; older ones are dropped.</returns>
    public async IAsyncEnumerable<T?> ReadEventsAsync<T>(string eventName, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<CborArray>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        using IDisposable subscription = AddListener(eventName, (_, arguments) => channel.Writer.TryWrite(arguments), channel);
        while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (channel.Reader.TryRead(out CborArray? arguments))
            {
                yield return MapEventValue<T>(eventName, arguments);
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Id} ({Providers.Count} providers)";

    internal async Task<CborValue> InvokeAsync(string method, CborArray arguments, CancellationToken cancellationToken)
    {
        ServiceInstance[] providers = Volatile.Read(ref _providers);
        if (providers.Length == 0)
        {
            throw new ServiceCallException(ServiceCallFailure.NotAvailable, Id, method, null, $"Service with id `{Id}` is not available");
        }

        // Round-robin; a provider that cannot be reached (no route, refused) is skipped for this call.
        uint start = Interlocked.Increment(ref _next) - 1;
        for (int attempt = 0; ; attempt++)
        {
            ServiceInstance provider = providers[(int)((start + (uint)attempt) % (uint)providers.Length)];
            try
            {
                return await _services.InvokeAsync(provider, Id, method, arguments, cancellationToken).ConfigureAwait(false);
            }
            catch (ServiceCallException ex) when (
                ex.Failure == ServiceCallFailure.DeliveryFailed
                && ex.InnerException is MessageDeliveryException { Failure: MessageDeliveryFailure.NoRoute or MessageDeliveryFailure.Rejected }
                && attempt + 1 < providers.Length)
            {
            }
        }
    }

    internal CborArray MapArguments(string method, IReadOnlyList<object?> arguments, Type[]? declaredTypes)
    {
        var values = new CborValue[arguments.Count];
        for (int i = 0; i < values.Length; i++)
        {
            try
            {
                object? argument = arguments[i];
                values[i] = CborSerializer.ToValue(argument, declaredTypes?[i] ?? argument?.GetType() ?? typeof(object));
            }
            catch (CborException ex)
            {
                throw new ServiceCallException(ServiceCallFailure.InvalidArgument, Id, method, null, $"Argument {i} of `{method}` on `{Id}` could not be mapped: {ex.Message}", ex);
            }
        }

        return CborArray.Create(values);
    }

    internal T? MapResult<T>(string method, CborValue result)
    {
        try
        {
            return CborSerializer.FromValue<T>(result);
        }
        catch (CborException ex)
        {
            throw new ServiceCallException(ServiceCallFailure.InvalidResult, Id, method, null, $"The result of `{method}` on `{Id}` could not be read as {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    internal object? MapResult(string method, CborValue result, Type type)
    {
        try
        {
            return CborSerializer.FromValue(result, type);
        }
        catch (CborException ex)
        {
            throw new ServiceCallException(ServiceCallFailure.InvalidResult, Id, method, null, $"The result of `{method}` on `{Id}` could not be read as {type.Name}: {ex.Message}", ex);
        }
    }

    internal IDisposable AddListener(string eventName, Action<NodeId, CborArray> callback, object key)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        var listener = new EventListener(this, eventName, callback, key);
        bool first;
        ServiceInstance[] providers;
        lock (_lock)
        {
            if (!_listeners.TryGetValue(eventName, out List<EventListener>? list))
            {
                list = [];
                _listeners.Add(eventName, list);
            }

            list.Add(listener);
            first = list.Count == 1;
            providers = Volatile.Read(ref _providers);
        }

        if (first)
        {
            _services.Subscribe(this, eventName, providers);
        }

        return listener;
    }

    internal void RemoveListener(EventListener listener)
    {
        bool last = false;
        ServiceInstance[] providers;
        lock (_lock)
        {
            if (_listeners.TryGetValue(listener.EventName, out List<EventListener>? list) && list.Remove(listener) && list.Count == 0)
            {
                _listeners.Remove(listener.EventName);
                last = true;
            }

            providers = Volatile.Read(ref _providers);
        }

        if (last)
        {
            _services.Unsubscribe(this, listener.EventName, providers);
        }
    }

    /// <summary>Removes the listener registered with <paramref name="key"/> (a proxy's event handler).</summary>
    internal void RemoveListener(string eventName, object key)
    {
        EventListener? found = null;
        lock (_lock)
        {
            if (_listeners.TryGetValue(eventName, out List<EventListener>? list))
            {
                found = list.LastOrDefault(l => Equals(l.Key, key));
            }
        }

        found?.Dispose();
    }

    /// <summary>Replaces the providers; call under the services' lock.</summary>
    internal (bool WasAvailable, ServiceInstance[] Added) SetProviders(ServiceInstance[] providers)
    {
        ServiceInstance[] previous;
        TaskCompletionSource? signal = null;
        lock (_lock)
        {
            previous = _providers;
            Volatile.Write(ref _providers, providers);
            if (providers.Length > 0)
            {
                signal = _availableSignal;
                _availableSignal = null;
            }
        }

        foreach (ServiceInstance old in previous)
        {
            if (!providers.Any(p => p.Node == old.Node))
            {
                LastRemoved = old.Node;
            }
        }

        signal?.TrySetResult();
        return (previous.Length > 0, [.. providers.Where(p => !previous.Any(o => o.Node == p.Node))]);
    }

    /// <summary>Subscribes the new providers to the events that have local listeners.</summary>
    internal void OnProvidersAdded(ServiceInstance[] added)
    {
        string[] events;
        lock (_lock)
        {
            events = [.. _listeners.Keys];
        }

        foreach (string eventName in events)
        {
            _services.Subscribe(this, eventName, added);
        }
    }

    internal void RaiseAvailability(bool available, ServiceEventArgs args) =>
        (available ? Available : Unavailable)?.Invoke(_services, args);

    internal void DeliverEvent(NodeId source, string eventName, CborArray arguments)
    {
        EventListener[] listeners;
        lock (_lock)
        {
            if (!_listeners.TryGetValue(eventName, out List<EventListener>? list))
            {
                return;
            }

            listeners = [.. list];
        }

        _services.Raise(() =>
        {
            foreach (EventListener listener in listeners)
            {
                if (!listener.IsDisposed)
                {
                    _services.RunHandler(listener.EventName, () => listener.Callback(source, arguments));
                }
            }
        });
    }

    private T? MapEventValue<T>(string eventName, CborArray arguments)
    {
        try
        {
            return CborSerializer.FromValue<T>(arguments.Count > 0 ? arguments[0] : CborValue.Undefined);
        }
        catch (CborException ex)
        {
            throw new ServiceCallException(ServiceCallFailure.InvalidResult, Id, eventName, null, $"The value of event `{eventName}` of `{Id}` could not be read as {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    private async Task<T?> CallOneAsync<T>(ServiceInstance provider, string method, CborArray arguments, CancellationToken cancellationToken)
    {
        CborValue result = await _services.InvokeAsync(provider, Id, method, arguments, cancellationToken).ConfigureAwait(false);
        return MapResult<T>(method, result);
    }

    internal sealed class EventListener(ServiceReference owner, string eventName, Action<NodeId, CborArray> callback, object key) : IDisposable
    {
        private int _disposed;

        public string EventName { get; } = eventName;

        public Action<NodeId, CborArray> Callback { get; } = callback;

        public object Key { get; } = key;

        public bool IsDisposed => Volatile.Read(ref _disposed) == 1;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.RemoveListener(this);
            }
        }
    }
}
