using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Ataraxia.Cbor;

namespace Ataraxia.Internal;

/// <summary>The typed proxy behind <see cref="ServiceReference.As{T}"/>.</summary>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
#pragma warning disable CA1852 // DispatchProxy derives from this type at run time.
internal class ServiceProxy : DispatchProxy
#pragma warning restore CA1852
{
    private static readonly ConcurrentDictionary<Type, Dictionary<MethodInfo, Func<ServiceProxy, object?[], object?>>> Contracts = new();
    private static readonly MethodInfo CallTaskMethod = typeof(ServiceProxy).GetMethod(nameof(CallTask), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo CallValueTaskMethod = typeof(ServiceProxy).GetMethod(nameof(CallValueTask), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo StreamMethod = typeof(ServiceProxy).GetMethod(nameof(Stream), BindingFlags.NonPublic | BindingFlags.Static)!;

    private ServiceReference _reference = null!;
    private Dictionary<MethodInfo, Func<ServiceProxy, object?[], object?>> _members = null!;

    public static T Create<T>(ServiceReference reference)
        where T : class
    {
        if (!typeof(T).IsInterface)
        {
            throw new InvalidOperationException($"{ServiceContract.Describe(typeof(T))} is not an interface; typed service proxies implement interfaces.");
        }

        Dictionary<MethodInfo, Func<ServiceProxy, object?[], object?>> members = Contracts.GetOrAdd(typeof(T), Build);
        T proxy = Create<T, ServiceProxy>();
        var self = (ServiceProxy)(object)proxy;
        self._reference = reference;
        self._members = members;
        return proxy;
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        return _members.TryGetValue(targetMethod, out Func<ServiceProxy, object?[], object?>? member)
            ? member(this, args ?? [])
            : throw new NotSupportedException($"{targetMethod.Name} is not part of the service contract.");
    }

    private static Dictionary<MethodInfo, Func<ServiceProxy, object?[], object?>> Build(Type type)
    {
        ServiceContract contract = ServiceContract.For(type);
        var members = new Dictionary<MethodInfo, Func<ServiceProxy, object?[], object?>>();
        foreach (ServiceMethod method in contract.Methods.Values)
        {
            members.Add(method.Method, CreateCall(method));
        }

        foreach (ServiceEvent serviceEvent in contract.Events.Values)
        {
            if (serviceEvent.Stream is { } stream)
            {
                var open = StreamMethod.MakeGenericMethod(stream.ResultType!).CreateDelegate<Func<ServiceProxy, ServiceMethod, object?[], object?>>();
                members.Add(stream.Method, (proxy, args) => open(proxy, stream, args));
            }
            else
            {
                EventInfo info = serviceEvent.Event!;
                members.Add(info.AddMethod!, (proxy, args) =>
                {
                    proxy.AddHandler(serviceEvent, (Delegate)args[0]!);
                    return null;
                });
                members.Add(info.RemoveMethod!, (proxy, args) =>
                {
                    if (args[0] is Delegate handler)
                    {
                        proxy._reference.RemoveListener(serviceEvent.Name, handler);
                    }

                    return null;
                });
            }
        }

        foreach (MethodInfo disposal in type.GetInterfaces().Where(i => i == typeof(IDisposable) || i == typeof(IAsyncDisposable)).SelectMany(i => i.GetMethods()))
        {
            members.Add(disposal, (_, _) => disposal.ReturnType == typeof(ValueTask) ? ValueTask.CompletedTask : null);
        }

        return members;
    }

    private static Func<ServiceProxy, object?[], object?> CreateCall(ServiceMethod method)
    {
        Type returnType = method.Method.ReturnType;
        if (!method.IsAsync)
        {
            throw new InvalidOperationException(
                $"{method.Describe()} returns {returnType.Name}; methods of a service proxy return Task, Task<T>, ValueTask, ValueTask<T> or IAsyncEnumerable<T>.");
        }

        if (returnType == typeof(Task))
        {
            return (proxy, args) => proxy.CallAsync(method, args);
        }

        if (returnType == typeof(ValueTask))
        {
            return (proxy, args) => new ValueTask(proxy.CallAsync(method, args));
        }

        Type result = method.ResultType!;
        MethodInfo generic = (returnType.GetGenericTypeDefinition() == typeof(Task<>) ? CallTaskMethod : CallValueTaskMethod).MakeGenericMethod(result);
        Func<ServiceProxy, ServiceMethod, object?[], object?> typed = generic.CreateDelegate<Func<ServiceProxy, ServiceMethod, object?[], object?>>();
        return (proxy, args) => typed(proxy, method, args);
    }

#pragma warning disable CA1859, VSTHRD200 // Bound to a delegate returning object: the task is the proxy method's (boxed) return value.
    private static object? CallTask<T>(ServiceProxy proxy, ServiceMethod method, object?[] args) => proxy.CallAsync<T>(method, args);

    private static object? CallValueTask<T>(ServiceProxy proxy, ServiceMethod method, object?[] args) => new ValueTask<T?>(proxy.CallAsync<T>(method, args));
#pragma warning restore CA1859, VSTHRD200

    private static object? Stream<T>(ServiceProxy proxy, ServiceMethod method, object?[] args) =>
        proxy._reference.ReadEventsAsync<T>(method.Name, method.CancellationTokenIndex >= 0 ? (CancellationToken)args[method.CancellationTokenIndex]! : default);

    private async Task CallAsync(ServiceMethod method, object?[] args)
    {
        (CborArray arguments, CancellationToken cancellationToken) = Bind(method, args);
        await _reference.InvokeAsync(method.Name, arguments, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T?> CallAsync<T>(ServiceMethod method, object?[] args)
    {
        (CborArray arguments, CancellationToken cancellationToken) = Bind(method, args);
        CborValue result = await _reference.InvokeAsync(method.Name, arguments, cancellationToken).ConfigureAwait(false);
        return _reference.MapResult<T>(method.Name, result);
    }

    private (CborArray Arguments, CancellationToken CancellationToken) Bind(ServiceMethod method, object?[] args)
    {
        var values = new List<object?>(method.ValueParameters.Length);
        var types = new List<Type>(method.ValueParameters.Length);
        for (int i = 0; i < method.ValueParameters.Length; i++)
        {
            ParameterInfo parameter = method.ValueParameters[i];
            object? value = args[parameter.Position];
            if (method.HasRestParameter && i == method.ValueParameters.Length - 1)
            {
                // A params array travels as separate arguments, as a JavaScript rest parameter expects.
                Type element = parameter.ParameterType.GetElementType()!;
                if (value is Array array)
                {
                    foreach (object? item in array)
                    {
                        values.Add(item);
                        types.Add(element);
                    }
                }
            }
            else
            {
                values.Add(value);
                types.Add(parameter.ParameterType);
            }
        }

        CancellationToken cancellationToken = method.CancellationTokenIndex >= 0 ? (CancellationToken)args[method.CancellationTokenIndex]! : default;
        return (_reference.MapArguments(method.Name, values, [.. types]), cancellationToken);
    }

    private void AddHandler(ServiceEvent serviceEvent, Delegate handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _reference.AddListener(
            serviceEvent.Name,
            (_, arguments) =>
            {
                object?[] values = new object?[serviceEvent.ArgumentTypes.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = _reference.MapResult(serviceEvent.Name, i < arguments.Count ? arguments[i] : CborValue.Undefined, serviceEvent.ArgumentTypes[i]);
                }

                object?[] parameters = serviceEvent.IsSenderPattern ? [this, values.Length > 0 ? values[0] : EventArgs.Empty] : values;
                handler.DynamicInvoke(parameters);
            },
            handler);
    }
}
