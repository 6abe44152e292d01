using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Ataraxia.Cbor;

namespace Ataraxia.Internal;

/// <summary>A service registered on this node: calls its methods and forwards its events to the nodes that subscribed.</summary>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
internal sealed class LocalService
{
    private static readonly MethodInfo PumpMethod = typeof(LocalService).GetMethod(nameof(PumpAsync), BindingFlags.NonPublic | BindingFlags.Instance)!;

    private readonly Services _services;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, EventState> _events = new(StringComparer.Ordinal);
    private readonly Func<ServiceInvocation, CancellationToken, ValueTask<CborValue>>? _handler;
    private bool _disposed;

    public LocalService(Services services, string id, object target, ServiceContract contract)
    {
        _services = services;
        Id = id;
        Target = target;
        Contract = contract;
        Definition = contract.CreateDefinition(id);
    }

    /// <summary>A service whose methods are named by a definition and answered by one handler (no events).</summary>
    public LocalService(Services services, ServiceDefinition definition, Func<ServiceInvocation, CancellationToken, ValueTask<CborValue>> handler)
    {
        _services = services;
        Id = definition.Id;
        Definition = definition;
        _handler = handler;
    }

    public string Id { get; }

    /// <summary>Gets the object whose methods are called, or <see langword="null"/> for a handler service.</summary>
    public object? Target { get; }

    /// <summary>Gets how the object's type maps to the service, or <see langword="null"/> for a handler service.</summary>
    public ServiceContract? Contract { get; }

    public ServiceDefinition Definition { get; }

    /// <summary>Calls a method by its wire name on behalf of <paramref name="caller"/>.</summary>
    /// <exception cref="MissingMethodException">The service has no such method.</exception>
    /// <exception cref="ArgumentException">An argument could not be mapped.</exception>
    public ValueTask<CborValue> InvokeAsync(NodeId caller, string method, CborArray arguments, CancellationToken cancellationToken)
    {
        if (_handler is not null)
        {
            if (Definition.FindMethod(method) is null)
            {
                throw new MissingMethodException($"The service `{Id}` has no method `{method}`.");
            }

            return _handler(new ServiceInvocation(caller, Id, method, arguments), cancellationToken);
        }

        if (!Contract!.Methods.TryGetValue(method, out ServiceMethod? target))
        {
            throw new MissingMethodException($"The service `{Id}` has no method `{method}`.");
        }

        object?[] values = target.BindArguments(arguments, cancellationToken);
        return target.InvokeAsync(Target!, values);
    }

    /// <summary>Adds a subscriber; the first one attaches to the .NET event (or starts the stream).</summary>
    /// <returns><see langword="false"/> when the service has no such event.</returns>
    public bool Subscribe(string eventName, NodeId subscriber)
    {
        if (Contract is null || !Contract.Events.TryGetValue(eventName, out ServiceEvent? serviceEvent))
        {
            return false;
        }

        lock (_lock)
        {
            if (_disposed)
            {
                return true;
            }

            if (!_events.TryGetValue(eventName, out EventState? state))
            {
                state = new EventState(serviceEvent);
                _events.Add(eventName, state);
            }

            if (state.Subscribers.Add(subscriber) && state.Subscribers.Count == 1)
            {
                Attach(state);
            }
        }

        return true;
    }

    public void Unsubscribe(string eventName, NodeId subscriber)
    {
        lock (_lock)
        {
            if (_events.TryGetValue(eventName, out EventState? state) && state.Subscribers.Remove(subscriber) && state.Subscribers.Count == 0)
            {
                Detach(state);
            }
        }
    }

    /// <summary>Forgets a node that left: it gets no more events.</summary>
    public void RemoveSubscriber(NodeId subscriber)
    {
        lock (_lock)
        {
            foreach (EventState state in _events.Values)
            {
                if (state.Subscribers.Remove(subscriber) && state.Subscribers.Count == 0)
                {
                    Detach(state);
                }
            }
        }
    }

    /// <summary>Gets the nodes subscribed to an event (for diagnostics and tests).</summary>
    public NodeId[] SubscribersOf(string eventName)
    {
        lock (_lock)
        {
            return _events.TryGetValue(eventName, out EventState? state) ? [.. state.Subscribers] : [];
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (EventState state in _events.Values)
            {
                state.Subscribers.Clear();
                Detach(state);
            }

            _events.Clear();
        }
    }

    private void Attach(EventState state)
    {
        ServiceEvent serviceEvent = state.Event;
        Action<object?[]> emit = values => Emit(state, values);
        if (serviceEvent.Event is { } info)
        {
            state.Handler = serviceEvent.CreateHandler(emit);
            info.AddEventHandler(Target, state.Handler);
        }
        else
        {
            var stop = new CancellationTokenSource();
            state.Stop = stop;
            Func<ServiceMethod, Action<object?[]>, CancellationToken, Task> pump = PumpMethod
                .MakeGenericMethod(serviceEvent.Stream!.ResultType!)
                .CreateDelegate<Func<ServiceMethod, Action<object?[]>, CancellationToken, Task>>(this);
            ServiceMethod stream = serviceEvent.Stream;
            CancellationToken token = stop.Token;
            _ = Task.Run(() => pump(stream, emit, token), CancellationToken.None);
        }
    }

    private void Detach(EventState state)
    {
        if (state.Handler is not null)
        {
            state.Event.Event!.RemoveEventHandler(Target, state.Handler);
            state.Handler = null;
        }

        if (state.Stop is not null)
        {
            state.Stop.Cancel();
            state.Stop.Dispose();
            state.Stop = null;
        }
    }

    private void Emit(EventState state, object?[] values)
    {
        NodeId[] subscribers;
        lock (_lock)
        {
            if (state.Subscribers.Count == 0)
            {
                return;
            }

            subscribers = [.. state.Subscribers];
        }

        _services.Emit(this, state.Event, values, subscribers);
    }

    private async Task PumpAsync<T>(ServiceMethod method, Action<object?[]> emit, CancellationToken cancellationToken)
    {
        try
        {
            var source = (IAsyncEnumerable<T>)method.Method.Invoke(
                Target,
                BindingFlags.DoNotWrapExceptions,
                binder: null,
                method.CancellationTokenIndex >= 0 ? [cancellationToken] : [],
                culture: null)!;
            await foreach (T item in source.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                emit([item]);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _services.OnEventSourceFailed(Id, method.Name, ex);
        }
    }

    private sealed class EventState(ServiceEvent serviceEvent)
    {
        public ServiceEvent Event { get; } = serviceEvent;

        public HashSet<NodeId> Subscribers { get; } = [];

        public Delegate? Handler { get; set; }

        public CancellationTokenSource? Stop { get; set; }
    }
}
