using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Ataraxia.Cbor;

/// <summary><see cref="object"/>: the runtime type on write, the natural .NET type on read.</summary>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborNaturalObjectConverter : CborConverter<object>
{
    protected override CborValue WriteCore(object value, CborMappingContext context)
    {
        Type type = value.GetType();

        // A bare object has no properties, like a JavaScript {}.
        return type == typeof(object) ? new CborMap() : CborConverterCache.Get(type).WriteBoxed(value, context);
    }

    protected override object ReadCore(CborValue value, CborMappingContext context)
    {
        switch (value)
        {
            case CborInteger integer:
                return integer.Value;
            case CborFloat number:
                return number.Value;
            case CborText text:
                return text.Value;
            case CborBytes bytes:
                return bytes.Value.ToArray();
            case CborDate date:
                return date.Value;
            case CborArray array:
            {
                context.EnterRead(typeof(object), value);
                var list = new List<object?>(array.Count);
                for (int i = 0; i < array.Count; i++)
                {
                    context.PushIndex(i);
                    list.Add(Read(array[i], context));
                    context.Pop();
                }

                context.Exit();
                return list;
            }

            case CborMap map:
            {
                context.EnterRead(typeof(object), value);
                var dictionary = new Dictionary<string, object?>(map.Count, StringComparer.Ordinal);
                foreach (KeyValuePair<string, CborValue> entry in map)
                {
                    context.PushName(entry.Key);
                    dictionary[entry.Key] = Read(entry.Value, context);
                    context.Pop();
                }

                context.Exit();
                return dictionary;
            }

            default:
                // Other tags and simple values have no natural .NET type; keep the CBOR value.
                // (Cast first: bool would otherwise convert implicitly to CborValue.)
                return value.Kind == CborValueKind.Boolean ? (object)value.AsBoolean() : value;
        }
    }
}

/// <summary>Interfaces and abstract classes (other than collections): written by runtime type, not readable.</summary>
/// <typeparam name="T">The declared type.</typeparam>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborAbstractConverter<T> : CborConverter<T>
{
    protected override CborValue WriteCore(T value, CborMappingContext context) => CborConverterCache.Get(value!.GetType()).WriteBoxed(value, context);

    protected override T ReadCore(CborValue value, CborMappingContext context) =>
        throw context.ReadError(typeof(T), value, "an interface or abstract class cannot be created; declare a concrete type");
}

/// <summary>
/// Records, classes and structs ↔ maps of their public properties. Members, names and the way to create an instance are
/// worked out once, when the converter is created.
/// </summary>
/// <typeparam name="T">The object type.</typeparam>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborObjectConverter<T> : CborConverter<T>
{
    private readonly CborMember<T>[] _members;
    private readonly Dictionary<string, CborMember<T>> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CborMember<T>> _byNameIgnoringCase = new(StringComparer.OrdinalIgnoreCase);
    private readonly string? _invalid;

    // Exactly one of these describes how to create an instance, unless _cannotCreate says why there is none.
    private readonly Func<object>? _createEmpty;
    private readonly ConstructorInvoker? _constructor;
    private readonly CborParameter[] _parameters = [];
    private readonly string? _cannotCreate;

    public CborObjectConverter()
    {
        List<PropertyInfo> properties = FindProperties(typeof(T));
        var members = new List<CborMember<T>>(properties.Count);
        foreach (PropertyInfo property in properties)
        {
            if (property.GetCustomAttribute<CborIgnoreAttribute>(inherit: true) is not null || !CborSerializer.CanHoldValues(property.PropertyType))
            {
                continue;
            }

            string name = property.GetCustomAttribute<CborPropertyNameAttribute>(inherit: true)?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            var member = (CborMember<T>)Activator.CreateInstance(typeof(CborMember<,>).MakeGenericType(typeof(T), property.PropertyType), property, name)!;
            if (!_byName.TryAdd(name, member))
            {
                _invalid ??= $"the properties {_byName[name].Property.Name} and {property.Name} both map to the key \"{name}\"";
            }

            _byNameIgnoringCase.TryAdd(name, member);
            members.Add(member);
        }

        _members = [.. members];
        if (properties.Count == 0 && typeof(T).GetFields(BindingFlags.Public | BindingFlags.Instance).Length > 0)
        {
            // Such as a ValueTuple: writing {} would lose the data silently.
            _invalid = "it has public fields but no public properties, and fields are not mapped";
        }

        ConstructorInfo[] constructors = typeof(T).GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        ConstructorInfo? parameterless = constructors.FirstOrDefault(c => c.GetParameters().Length == 0);
        ConstructorInfo[] matching = [.. constructors.Where(c => c.GetParameters() is { Length: > 0 } parameters && parameters.All(p => MatchesProperty(p, properties)))];
        int most = matching.Length == 0 ? 0 : matching.Max(c => c.GetParameters().Length);
        ConstructorInfo[] best = [.. matching.Where(c => c.GetParameters().Length == most)];

        // A class with a public parameterless constructor is filled through its setters (as System.Text.Json does); a struct
        // always has one, so it prefers a constructor that takes its properties.
        if (best.Length > 0 && (parameterless is null || typeof(T).IsValueType))
        {
            if (best.Length > 1)
            {
                _cannotCreate = $"it has {best.Length} public constructors with {most} parameters that match its properties; make one of them the only one";
            }
            else
            {
                ParameterInfo[] parameters = best[0].GetParameters();
                _parameters = new CborParameter[parameters.Length];
                for (int i = 0; i < parameters.Length; i++)
                {
                    _parameters[i] = new CborParameter(parameters[i]);
                    CborMember<T>? member = members.FirstOrDefault(m => string.Equals(m.Property.Name, parameters[i].Name, StringComparison.Ordinal))
                        ?? members.FirstOrDefault(m => string.Equals(m.Property.Name, parameters[i].Name, StringComparison.OrdinalIgnoreCase));
                    if (member is { ParameterIndex: < 0 })
                    {
                        member.ParameterIndex = i;
                    }
                }

                _constructor = ConstructorInvoker.Create(best[0]);
            }
        }
        else if (typeof(T).IsValueType)
        {
            _createEmpty = static () => Activator.CreateInstance<T>()!;
        }
        else if (parameterless is not null)
        {
            ConstructorInvoker invoker = ConstructorInvoker.Create(parameterless);
            _createEmpty = invoker.Invoke;
        }
        else
        {
            _cannotCreate = "it has no public parameterless constructor and no public constructor whose parameter names all match properties";
        }
    }

    protected override CborValue WriteCore(T value, CborMappingContext context)
    {
        if (_invalid is not null)
        {
            throw context.WriteError(typeof(T), _invalid);
        }

        context.EnterWrite(typeof(T));
        var map = new CborMap();
        foreach (CborMember<T> member in _members)
        {
            context.PushName(member.Name);
            map[member.Name] = member.Write(value, context);
            context.Pop();
        }

        context.Exit();
        return map;
    }

    protected override T ReadCore(CborValue value, CborMappingContext context)
    {
        if (value is not CborMap map)
        {
            throw context.ReadError(typeof(T), value);
        }

        if ((_invalid ?? _cannotCreate) is string reason)
        {
            throw context.ReadError(typeof(T), value, reason);
        }

        context.EnterRead(typeof(T), value);
        T instance;
        if (_constructor is not null)
        {
            object?[] arguments = new object?[_parameters.Length];
            for (int i = 0; i < arguments.Length; i++)
            {
                arguments[i] = _parameters[i].DefaultValue;
            }

            foreach (KeyValuePair<string, CborValue> entry in map)
            {
                if (!TryFind(entry.Key, out CborMember<T>? member) || member.ParameterIndex < 0)
                {
                    continue;
                }

                CborConverter converter = _parameters[member.ParameterIndex].Converter;
                if (entry.Value.Kind == CborValueKind.Undefined && !converter.HandlesNull)
                {
                    continue;
                }

                context.PushName(entry.Key);
                arguments[member.ParameterIndex] = converter.ReadBoxed(entry.Value, context);
                context.Pop();
            }

            ConstructorInvoker constructor = _constructor;
            instance = (T)CborConstructors.Invoke(() => constructor.Invoke(arguments.AsSpan()), typeof(T), value, context);
        }
        else
        {
            instance = (T)CborConstructors.Invoke(_createEmpty!, typeof(T), value, context);
        }

        foreach (KeyValuePair<string, CborValue> entry in map)
        {
            if (!TryFind(entry.Key, out CborMember<T>? member) || member.ParameterIndex >= 0 || !member.CanSet
                || (entry.Value.Kind == CborValueKind.Undefined && !member.HandlesNull))
            {
                continue;
            }

            context.PushName(entry.Key);
            member.ReadInto(ref instance, entry.Value, context);
            context.Pop();
        }

        context.Exit();
        return instance;
    }

    // Public readable instance properties without index parameters, base class first, each in declaration order.
    // An override or a "new" property takes the place of the base property it replaces.
    private static List<PropertyInfo> FindProperties(Type type)
    {
        var hierarchy = new Stack<Type>();
        for (Type? level = type; level is not null && level != typeof(object) && level != typeof(ValueType); level = level.BaseType)
        {
            hierarchy.Push(level);
        }

        var properties = new List<PropertyInfo>();
        foreach (Type level in hierarchy)
        {
            foreach (PropertyInfo property in level.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (property.GetIndexParameters().Length > 0 || property.GetMethod is not { IsPublic: true })
                {
                    continue;
                }

                int existing = properties.FindIndex(p => p.Name == property.Name);
                if (existing >= 0)
                {
                    properties[existing] = property;
                }
                else
                {
                    properties.Add(property);
                }
            }
        }

        return properties;
    }

    private static bool MatchesProperty(ParameterInfo parameter, List<PropertyInfo> properties) =>
        parameter.Name is string name
        && CborSerializer.CanHoldValues(parameter.ParameterType)
        && properties.Exists(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    private bool TryFind(string key, [NotNullWhen(true)] out CborMember<T>? member) =>
        _byName.TryGetValue(key, out member) || _byNameIgnoringCase.TryGetValue(key, out member);
}

/// <summary>A constructor parameter, read with the converter of its own type.</summary>
/// <param name="parameter">The parameter.</param>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborParameter(ParameterInfo parameter)
{
    private CborConverter? _converter;

    /// <summary>Gets the value passed when the map has no entry: the declared default, or the type's default.</summary>
    public object? DefaultValue { get; } = GetDefaultValue(parameter);

    public CborConverter Converter => _converter ??= CborConverterCache.Get(parameter.ParameterType);

    private static object? GetDefaultValue(ParameterInfo parameter)
    {
        Type type = parameter.ParameterType;
        Type? underlying = Nullable.GetUnderlyingType(type);
        if (parameter.HasDefaultValue && parameter.DefaultValue is object value)
        {
            // Enum defaults are stored as the underlying integer.
            Type target = underlying ?? type;
            return target.IsEnum && value.GetType() != target ? Enum.ToObject(target, value) : value;
        }

        return type.IsValueType && underlying is null ? RuntimeHelpers.GetUninitializedObject(type) : null;
    }
}

/// <summary>A property of <typeparamref name="T"/> as a map entry.</summary>
/// <typeparam name="T">The object type.</typeparam>
internal abstract class CborMember<T>
{
    protected CborMember(PropertyInfo property, string name)
    {
        Property = property;
        Name = name;
    }

    public PropertyInfo Property { get; }

    /// <summary>Gets the map key.</summary>
    public string Name { get; }

    /// <summary>Gets or sets the index of the constructor parameter that receives this property, or -1.</summary>
    public int ParameterIndex { get; set; } = -1;

    public abstract bool CanSet { get; }

    public abstract bool HandlesNull { get; }

    public abstract CborValue Write(T instance, CborMappingContext context);

    public abstract void ReadInto(ref T instance, CborValue value, CborMappingContext context);
}

internal delegate TProperty CborRefGetter<T, TProperty>(ref T instance);

internal delegate void CborRefSetter<T, TProperty>(ref T instance, TProperty value);

/// <summary>A property bound to delegates once, so that mapping does not reflect per call.</summary>
/// <typeparam name="T">The object type.</typeparam>
/// <typeparam name="TProperty">The property type.</typeparam>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborMember<T, TProperty> : CborMember<T>
{
    private readonly Func<T, TProperty> _getter;
    private readonly CborRefSetter<T, TProperty>? _setter;

    public CborMember(PropertyInfo property, string name)
        : base(property, name)
    {
        _getter = CreateGetter(property);
        _setter = property.SetMethod is { IsPublic: true } ? CreateSetter(property) : null;
    }

    public override bool CanSet => _setter is not null;

    public override bool HandlesNull => CborConverterCache<TProperty>.Converter.HandlesNull;

    public override CborValue Write(T instance, CborMappingContext context)
    {
        TProperty value;
        try
        {
            value = _getter(instance);
        }
        catch (Exception exception) when (exception is not CborException)
        {
            Exception cause = exception is TargetInvocationException { InnerException: Exception inner } ? inner : exception;
            throw context.WriteError(typeof(T), $"the getter of {Property.Name} threw {cause.GetType().Name}: {cause.Message}", cause);
        }

        return CborConverterCache<TProperty>.Converter.Write(value, context);
    }

    public override void ReadInto(ref T instance, CborValue value, CborMappingContext context)
    {
        TProperty result = CborConverterCache<TProperty>.Converter.Read(value, context);
        try
        {
            _setter!(ref instance, result);
        }
        catch (Exception exception) when (exception is not CborException)
        {
            Exception cause = exception is TargetInvocationException { InnerException: Exception inner } ? inner : exception;
            throw context.ReadError(typeof(TProperty), value, $"the setter of {typeof(T).Name}.{Property.Name} threw {cause.GetType().Name}: {cause.Message}", cause);
        }
    }

    private static Func<T, TProperty> CreateGetter(PropertyInfo property)
    {
        MethodInfo getter = property.GetMethod!;
        try
        {
            if (!typeof(T).IsValueType)
            {
                return getter.CreateDelegate<Func<T, TProperty>>();
            }

            CborRefGetter<T, TProperty> byReference = getter.CreateDelegate<CborRefGetter<T, TProperty>>();
            return instance => byReference(ref instance);
        }
        catch (ArgumentException)
        {
            // The accessor does not bind to an open delegate; call it through reflection instead.
            return instance => (TProperty)property.GetValue(instance)!;
        }
    }

    private static CborRefSetter<T, TProperty> CreateSetter(PropertyInfo property)
    {
        MethodInfo setter = property.SetMethod!;
        try
        {
            if (!typeof(T).IsValueType)
            {
                Action<T, TProperty> set = setter.CreateDelegate<Action<T, TProperty>>();
                return (ref T instance, TProperty value) => set(instance, value);
            }

            return setter.CreateDelegate<CborRefSetter<T, TProperty>>();
        }
        catch (ArgumentException)
        {
            return (ref T instance, TProperty value) =>
            {
                object boxed = instance!;
                property.SetValue(boxed, value);
                instance = (T)boxed;
            };
        }
    }
}
