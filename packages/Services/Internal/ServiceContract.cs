using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using Ataraxia.Cbor;

namespace Ataraxia.Internal;

/// <summary>How the methods and events of a .NET type map to a service definition; built once per type.</summary>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
internal sealed class ServiceContract
{
    private static readonly ConcurrentDictionary<Type, ServiceContract> Cache = new();

    private ServiceContract(Type type)
    {
        Type = type;
        var methods = new Dictionary<string, ServiceMethod>(StringComparer.Ordinal);
        var events = new Dictionary<string, ServiceEvent>(StringComparer.Ordinal);
        var accessors = new HashSet<MethodInfo>();

        foreach (EventInfo info in GetEvents(type))
        {
            var serviceEvent = new ServiceEvent(info);
            if (!events.TryAdd(serviceEvent.Name, serviceEvent))
            {
                throw new InvalidOperationException($"{Describe(type)} has two events named `{serviceEvent.Name}` on the wire.");
            }

            accessors.Add(info.AddMethod!);
            accessors.Add(info.RemoveMethod!);
        }

        foreach (MethodInfo info in GetMethods(type))
        {
            if (info.IsSpecialName || accessors.Contains(info))
            {
                continue;
            }

            var method = new ServiceMethod(info);
            if (method.IsStream)
            {
                if (!events.TryAdd(method.Name, ServiceEvent.FromStream(method)))
                {
                    throw new InvalidOperationException($"{Describe(type)} has two events named `{method.Name}` on the wire.");
                }
            }
            else if (!methods.TryAdd(method.Name, method))
            {
                throw new InvalidOperationException(
                    $"{Describe(type)} has two methods named `{method.Name}` on the wire (overloads are not supported; use [ServiceName] to tell them apart).");
            }
        }

        Methods = methods;
        Events = events;
    }

    public Type Type { get; }

    public IReadOnlyDictionary<string, ServiceMethod> Methods { get; }

    public IReadOnlyDictionary<string, ServiceEvent> Events { get; }

    public static ServiceContract For(Type type) => Cache.GetOrAdd(type, static t => new ServiceContract(t));

    public ServiceDefinition CreateDefinition(string id) => new(
        id,
        [.. Methods.Values.Select(m => new ServiceMethodDefinition(m.Name, m.Description, m.ReturnTypeId, m.Parameters))],
        [.. Events.Values.Select(e => new ServiceEventDefinition(e.Name, e.Description, e.Parameters))]);

    public static string Describe(Type type) => type.FullName ?? type.Name;

    public static string MethodName(MethodInfo method)
    {
        string? explicitName = method.GetCustomAttribute<ServiceNameAttribute>()?.Name;
        if (explicitName is not null)
        {
            return explicitName;
        }

        string name = method.Name;
        if (name.Length > 5 && name.EndsWith("Async", StringComparison.Ordinal))
        {
            name = name[..^5];
        }

        return JsonNamingPolicy.CamelCase.ConvertName(name);
    }

    public static string EventName(EventInfo info) =>
        info.GetCustomAttribute<ServiceNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(info.Name);

    public static string ParameterName(ParameterInfo parameter) =>
        parameter.GetCustomAttribute<ServiceNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(parameter.Name ?? $"arg{parameter.Position}");

    public static string? Description(ICustomAttributeProvider member) =>
        member.GetCustomAttributes(typeof(DescriptionAttribute), inherit: true) is [DescriptionAttribute d, ..] ? d.Description : null;

    /// <summary>The type id JavaScript's services use for a .NET type.</summary>
    public static string TypeId(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(void) || type == typeof(Task) || type == typeof(ValueTask))
        {
            return "void";
        }

        if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>)))
        {
            return TypeId(type.GetGenericArguments()[0]);
        }

        if (type == typeof(string) || type == typeof(char) || type == typeof(Guid) || type == typeof(Uri) || type.IsEnum)
        {
            return "string";
        }

        if (type == typeof(bool))
        {
            return "boolean";
        }

        if (type.IsPrimitive || type == typeof(decimal) || type == typeof(Half) || type == typeof(Int128) || type == typeof(UInt128) || type == typeof(TimeSpan))
        {
            return "number";
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return "date";
        }

        if (type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>))
        {
            return "buffer";
        }

        if (type == typeof(object) || typeof(CborValue).IsAssignableFrom(type))
        {
            return "any";
        }

        Type? item = ItemType(type);
        if (item is not null)
        {
            return $"array<{TypeId(item)}>";
        }

        return typeof(System.Collections.IDictionary).IsAssignableFrom(type) || IsGenericDictionary(type) ? "object" : type.Name;
    }

    private static Type? ItemType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (IsGenericDictionary(type))
        {
            return null;
        }

        Type? enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    private static bool IsGenericDictionary(Type type) =>
        (type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)))
        || type.GetInterfaces().Any(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)));

    private static IEnumerable<MethodInfo> GetMethods(Type type) => type.IsInterface
        ? new[] { type }.Concat(type.GetInterfaces()).SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        : type.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.DeclaringType != typeof(object) && !IsDisposeMethod(m));

    private static IEnumerable<EventInfo> GetEvents(Type type) => type.IsInterface
        ? new[] { type }.Concat(type.GetInterfaces()).SelectMany(t => t.GetEvents(BindingFlags.Public | BindingFlags.Instance))
        : type.GetEvents(BindingFlags.Public | BindingFlags.Instance);

    private static bool IsDisposeMethod(MethodInfo method) =>
        (method.Name is "Dispose" or "DisposeAsync") && method.GetParameters().Length == 0;
}

/// <summary>Shared strings of the services package.</summary>
internal static class ServicesConstants
{
    public const string ReflectionMessage =
        "Services map .NET methods, events and their parameter types through reflection, which trimming may remove. "
        + "Keep the public members of service types and of the types they exchange.";
}

/// <summary>A method of a service contract: how to call it with CBOR arguments, and how its result maps back.</summary>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
internal sealed class ServiceMethod
{
    private static readonly MethodInfo AwaitTaskOfT = typeof(ServiceMethod).GetMethod(nameof(AwaitTaskAsync), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo AwaitValueTaskOfT = typeof(ServiceMethod).GetMethod(nameof(AwaitValueTaskAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly Func<object, ValueTask<object?>>? _awaitResult;

    public ServiceMethod(MethodInfo method)
    {
        Method = method;
        Name = ServiceContract.MethodName(method);
        Description = ServiceContract.Description(method);
        ParameterInfo[] parameters = method.GetParameters();
        CancellationTokenIndex = -1;
        var values = new List<ParameterInfo>(parameters.Length);
        for (int i = 0; i < parameters.Length; i++)
        {
            ParameterInfo p = parameters[i];
            if (p.ParameterType == typeof(CancellationToken))
            {
                if (i != parameters.Length - 1)
                {
                    throw new InvalidOperationException($"{Describe()}: a CancellationToken must be the last parameter.");
                }

                CancellationTokenIndex = i;
                continue;
            }

            if (p.ParameterType.IsByRef || p.IsOut)
            {
                throw new InvalidOperationException($"{Describe()}: ref and out parameters are not supported.");
            }

            values.Add(p);
        }

        ValueParameters = [.. values];
        HasRestParameter = values.Count > 0 && values[^1].GetCustomAttribute<ParamArrayAttribute>() is not null;
        Parameters = [.. values.Select((p, i) => new ServiceParameterDefinition(
            ServiceContract.ParameterName(p),
            ServiceContract.Description(p),
            p.HasDefaultValue || p.IsOptional || (HasRestParameter && i == values.Count - 1),
            HasRestParameter && i == values.Count - 1,
            ServiceContract.TypeId(HasRestParameter && i == values.Count - 1 ? p.ParameterType.GetElementType()! : p.ParameterType)))];

        Type returnType = method.ReturnType;
        ReturnTypeId = ServiceContract.TypeId(returnType);
        if (returnType == typeof(void))
        {
            ResultType = null;
        }
        else if (returnType == typeof(Task) || returnType == typeof(ValueTask))
        {
            ResultType = null;
            _awaitResult = returnType == typeof(Task)
                ? static async t => { await ((Task)t).ConfigureAwait(false); return null; }
                : static async t => { await ((ValueTask)t).ConfigureAwait(false); return null; };
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            ResultType = returnType.GetGenericArguments()[0];
            _awaitResult = AwaitTaskOfT.MakeGenericMethod(ResultType).CreateDelegate<Func<object, ValueTask<object?>>>();
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            ResultType = returnType.GetGenericArguments()[0];
            _awaitResult = AwaitValueTaskOfT.MakeGenericMethod(ResultType).CreateDelegate<Func<object, ValueTask<object?>>>();
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>))
        {
            IsStream = true;
            ResultType = returnType.GetGenericArguments()[0];
            if (ValueParameters.Length != 0)
            {
                throw new InvalidOperationException($"{Describe()}: a method returning IAsyncEnumerable<T> is an event and may take only a CancellationToken.");
            }
        }
        else
        {
            ResultType = returnType;
        }
    }

    public MethodInfo Method { get; }

    public string Name { get; }

    public string? Description { get; }

    public ParameterInfo[] ValueParameters { get; }

    public int CancellationTokenIndex { get; }

    public bool HasRestParameter { get; }

    public IReadOnlyList<ServiceParameterDefinition> Parameters { get; }

    public string ReturnTypeId { get; }

    /// <summary>Gets the type of the result, or <see langword="null"/> for methods that return nothing.</summary>
    public Type? ResultType { get; }

    /// <summary>Gets a value indicating whether the method returns <see cref="IAsyncEnumerable{T}"/> (an event source).</summary>
    public bool IsStream { get; }

    public bool IsAsync => _awaitResult is not null;

    public string Describe() => $"{ServiceContract.Describe(Method.DeclaringType!)}.{Method.Name}";

    /// <summary>Maps CBOR arguments to the .NET parameters, filling in defaults for missing ones.</summary>
    /// <exception cref="ArgumentException">An argument cannot be mapped; the message names it.</exception>
    public object?[] BindArguments(CborArray arguments, CancellationToken cancellationToken)
    {
        ParameterInfo[] all = Method.GetParameters();
        object?[] values = new object?[all.Length];
        for (int i = 0; i < ValueParameters.Length; i++)
        {
            ParameterInfo parameter = ValueParameters[i];
            bool rest = HasRestParameter && i == ValueParameters.Length - 1;
            try
            {
                if (rest)
                {
                    Type element = parameter.ParameterType.GetElementType()!;
                    int count = Math.Max(0, arguments.Count - i);
                    var array = Array.CreateInstance(element, count);
                    for (int j = 0; j < count; j++)
                    {
                        array.SetValue(CborSerializer.FromValue(arguments[i + j], element), j);
                    }

                    values[parameter.Position] = array;
                }
                else if (i < arguments.Count && !arguments[i].IsNullOrUndefined)
                {
                    values[parameter.Position] = CborSerializer.FromValue(arguments[i], parameter.ParameterType);
                }
                else if (parameter.HasDefaultValue)
                {
                    values[parameter.Position] = parameter.DefaultValue;
                }
                else if (i < arguments.Count)
                {
                    // An explicit null or undefined: fine for references and Nullable<T>, an error for other value types.
                    values[parameter.Position] = CborSerializer.FromValue(CborValue.Null, parameter.ParameterType);
                }
                else if (!parameter.ParameterType.IsValueType || Nullable.GetUnderlyingType(parameter.ParameterType) is not null)
                {
                    values[parameter.Position] = null;
                }
                else
                {
                    throw new ArgumentException($"Argument {i} (`{ServiceContract.ParameterName(parameter)}`) is missing.");
                }
            }
            catch (CborException ex)
            {
                throw new ArgumentException($"Argument {i} (`{ServiceContract.ParameterName(parameter)}`) could not be read as {parameter.ParameterType.Name}: {ex.Message}", ex);
            }
        }

        if (CancellationTokenIndex >= 0)
        {
            values[CancellationTokenIndex] = cancellationToken;
        }

        return values;
    }

    /// <summary>Calls the method and maps its result to CBOR (<c>undefined</c> when it returns nothing).</summary>
    public async ValueTask<CborValue> InvokeAsync(object target, object?[] arguments)
    {
        object? returned = Method.Invoke(target, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null);
        object? result = _awaitResult is null ? returned : await _awaitResult(returned!).ConfigureAwait(false);
        return ResultType is null ? CborValue.Undefined : CborSerializer.ToValue(result, ResultType);
    }

    private static async ValueTask<object?> AwaitTaskAsync<T>(object task) => await ((Task<T>)task).ConfigureAwait(false);

    private static async ValueTask<object?> AwaitValueTaskAsync<T>(object task) => await ((ValueTask<T>)task).ConfigureAwait(false);
}

/// <summary>An event of a service contract: a .NET event, or a method returning <see cref="IAsyncEnumerable{T}"/>.</summary>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
internal sealed class ServiceEvent
{
    private static readonly MethodInfo EmitMethod = typeof(Action<object?[]>).GetMethod(nameof(Action<object?[]>.Invoke))!;

    public ServiceEvent(EventInfo info)
    {
        Event = info;
        Name = ServiceContract.EventName(info);
        Description = ServiceContract.Description(info);
        DelegateType = info.EventHandlerType!;
        ParameterInfo[] parameters = DelegateType.GetMethod("Invoke")!.GetParameters();
        if (DelegateType.GetMethod("Invoke")!.ReturnType != typeof(void))
        {
            throw new InvalidOperationException($"Event {info.DeclaringType?.Name}.{info.Name}: event delegates must return void.");
        }

        // EventHandler / EventHandler<T> (sender, args): the sender stays local; only the args travel (none for EventArgs).
        IsSenderPattern = parameters.Length == 2 && parameters[0].ParameterType == typeof(object);
        ArgumentTypes = IsSenderPattern
            ? parameters[1].ParameterType == typeof(EventArgs) ? [] : [parameters[1].ParameterType]
            : [.. parameters.Select(p => p.ParameterType)];
        Parameters = IsSenderPattern
            ? [.. ArgumentTypes.Select(t => new ServiceParameterDefinition("data", null, false, false, ServiceContract.TypeId(t)))]
            : [.. parameters.Select(p => new ServiceParameterDefinition(ServiceContract.ParameterName(p), null, false, false, ServiceContract.TypeId(p.ParameterType)))];
    }

    private ServiceEvent(ServiceMethod stream)
    {
        Stream = stream;
        Name = stream.Name;
        Description = stream.Description;
        DelegateType = null;
        ArgumentTypes = [stream.ResultType!];
        Parameters = [new ServiceParameterDefinition("data", null, false, false, ServiceContract.TypeId(stream.ResultType!))];
    }

    public EventInfo? Event { get; }

    public ServiceMethod? Stream { get; }

    public string Name { get; }

    public string? Description { get; }

    public Type? DelegateType { get; }

    public bool IsSenderPattern { get; }

    public Type[] ArgumentTypes { get; }

    public IReadOnlyList<ServiceParameterDefinition> Parameters { get; }

    public static ServiceEvent FromStream(ServiceMethod method) => new(method);

    /// <summary>Creates a handler of the event's delegate type that passes the values it gets (without the sender) to <paramref name="emit"/>.</summary>
    public Delegate CreateHandler(Action<object?[]> emit)
    {
        MethodInfo invoke = DelegateType!.GetMethod("Invoke")!;
        ParameterExpression[] parameters = [.. invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name))];
        IEnumerable<ParameterExpression> carried = IsSenderPattern ? parameters.Skip(1).Take(ArgumentTypes.Length) : parameters;
        NewArrayExpression values = Expression.NewArrayInit(typeof(object), carried.Select(p => Expression.Convert(p, typeof(object))));
        MethodCallExpression body = Expression.Call(Expression.Constant(emit), EmitMethod, values);
        return Expression.Lambda(DelegateType, body, parameters).Compile();
    }

    /// <summary>Maps the values of an occurrence to CBOR arguments.</summary>
    public CborArray ToArguments(object?[] values)
    {
        var items = new CborValue[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            items[i] = CborSerializer.ToValue(values[i], ArgumentTypes[i]);
        }

        return CborArray.Create(items);
    }
}
