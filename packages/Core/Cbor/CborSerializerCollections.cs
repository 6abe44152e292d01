using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Reflection;

namespace Ataraxia.Cbor;

/// <summary>Enums: the member name on write; a name (ignoring case) or an integer on read.</summary>
/// <typeparam name="TEnum">The enum type.</typeparam>
internal sealed class CborEnumConverter<TEnum> : CborConverter<TEnum>
    where TEnum : struct, Enum
{
    private static readonly TypeCode UnderlyingCode = Type.GetTypeCode(typeof(TEnum));

    protected override CborValue WriteCore(TEnum value, CborMappingContext context)
    {
        string name = value.ToString();

        // A value without a name formats as its number; send the number.
        if (name.Length > 0 && (char.IsAsciiDigit(name[0]) || name[0] == '-'))
        {
            Int128 number = UnderlyingCode == TypeCode.UInt64 ? Convert.ToUInt64(value, CultureInfo.InvariantCulture) : Convert.ToInt64(value, CultureInfo.InvariantCulture);
            return number > CborWriter.MaxSafeInteger || number < CborWriter.MinSafeInteger
                ? throw context.WriteError(typeof(TEnum), $"the value {name} has no name and lies outside ±(2^53 - 1)")
                : new CborInteger((long)number);
        }

        return new CborText(name);
    }

    protected override TEnum ReadCore(CborValue value, CborMappingContext context)
    {
        if (value is CborText text)
        {
            return Enum.TryParse(text.Value, ignoreCase: true, out TEnum result)
                ? result
                : throw context.ReadError(typeof(TEnum), value, "no member has that name");
        }

        if (!CborNumbers.TryGetInteger(value, out Int128 number))
        {
            throw context.ReadError(typeof(TEnum), value);
        }

        if (!FitsUnderlyingType(number))
        {
            throw context.ReadError(typeof(TEnum), value, "the number is out of range");
        }

        return UnderlyingCode == TypeCode.UInt64
            ? (TEnum)Enum.ToObject(typeof(TEnum), (ulong)number)
            : (TEnum)Enum.ToObject(typeof(TEnum), (long)number);
    }

    private static bool FitsUnderlyingType(Int128 number) => UnderlyingCode switch
    {
        TypeCode.SByte => number >= sbyte.MinValue && number <= sbyte.MaxValue,
        TypeCode.Byte => number >= byte.MinValue && number <= byte.MaxValue,
        TypeCode.Int16 => number >= short.MinValue && number <= short.MaxValue,
        TypeCode.UInt16 => number >= ushort.MinValue && number <= ushort.MaxValue,
        TypeCode.Int32 => number >= int.MinValue && number <= int.MaxValue,
        TypeCode.UInt32 => number >= uint.MinValue && number <= uint.MaxValue,
        TypeCode.Int64 => number >= long.MinValue && number <= long.MaxValue,
        TypeCode.UInt64 => number >= ulong.MinValue && number <= ulong.MaxValue,
        _ => false,
    };
}

/// <summary>Single-dimensional arrays ↔ arrays.</summary>
/// <typeparam name="TElement">The element type.</typeparam>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborArrayConverter<TElement> : CborConverter<TElement[]>
{
    protected override CborValue WriteCore(TElement[] value, CborMappingContext context)
    {
        CborConverter<TElement> elements = CborConverterCache<TElement>.Converter;
        context.EnterWrite(typeof(TElement[]));
        var items = new List<CborValue>(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            context.PushIndex(i);
            items.Add(elements.Write(value[i], context));
            context.Pop();
        }

        context.Exit();
        return new CborArray(items, copy: false);
    }

    protected override TElement[] ReadCore(CborValue value, CborMappingContext context)
    {
        if (value is not CborArray array)
        {
            throw context.ReadError(typeof(TElement[]), value);
        }

        CborConverter<TElement> elements = CborConverterCache<TElement>.Converter;
        context.EnterRead(typeof(TElement[]), value);
        var result = new TElement[array.Count];
        for (int i = 0; i < result.Length; i++)
        {
            context.PushIndex(i);
            result[i] = elements.Read(array[i], context);
            context.Pop();
        }

        context.Exit();
        return result;
    }
}

/// <summary>Any <see cref="IEnumerable{T}"/> ↔ arrays.</summary>
/// <typeparam name="TCollection">The collection type.</typeparam>
/// <typeparam name="TElement">The element type.</typeparam>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborCollectionConverter<TCollection, TElement> : CborConverter<TCollection>
{
    private readonly Func<List<TElement>, object>? _fromList;
    private readonly Func<object>? _createEmpty;

    public CborCollectionConverter()
    {
        Type type = typeof(TCollection);
        if (type.IsAssignableFrom(typeof(List<TElement>)))
        {
            _fromList = static list => list;
        }
        else if (type.IsAssignableFrom(typeof(HashSet<TElement>)))
        {
            _fromList = static list => new HashSet<TElement>(list);
        }
        else if (!type.IsValueType && !type.IsAbstract && type.IsAssignableTo(typeof(ICollection<TElement>)) && CborConstructors.FindParameterless(type) is Func<object> create)
        {
            _createEmpty = create;
        }
        else
        {
            _fromList = CborConstructors.FindWrapping<List<TElement>>(type);
        }
    }

    protected override CborValue WriteCore(TCollection value, CborMappingContext context)
    {
        CborConverter<TElement> elements = CborConverterCache<TElement>.Converter;
        context.EnterWrite(typeof(TCollection));
        var items = new List<CborValue>(value is ICollection<TElement> collection ? collection.Count : 4);
        int index = 0;
        foreach (TElement item in (IEnumerable<TElement>)value!)
        {
            context.PushIndex(index++);
            items.Add(elements.Write(item, context));
            context.Pop();
        }

        context.Exit();
        return new CborArray(items, copy: false);
    }

    protected override TCollection ReadCore(CborValue value, CborMappingContext context)
    {
        if (value is not CborArray array)
        {
            throw context.ReadError(typeof(TCollection), value);
        }

        if (_createEmpty is null && _fromList is null)
        {
            throw context.ReadError(typeof(TCollection), value, "the collection type has no public parameterless constructor (with Add) and no public constructor taking a List<T>");
        }

        CborConverter<TElement> elements = CborConverterCache<TElement>.Converter;
        context.EnterRead(typeof(TCollection), value);
        object? created = _createEmpty is null ? null : CborConstructors.Invoke(_createEmpty, typeof(TCollection), value, context);
        ICollection<TElement> target = (ICollection<TElement>?)created ?? new List<TElement>(array.Count);
        if (target.IsReadOnly)
        {
            throw context.ReadError(typeof(TCollection), value, "a new instance of the collection type is read-only");
        }

        for (int i = 0; i < array.Count; i++)
        {
            context.PushIndex(i);
            target.Add(elements.Read(array[i], context));
            context.Pop();
        }

        context.Exit();
        if (created is not null)
        {
            return (TCollection)created;
        }

        var list = (List<TElement>)target;
        return (TCollection)CborConstructors.Invoke(() => _fromList!(list), typeof(TCollection), value, context);
    }
}

/// <summary>Dictionaries ↔ maps, with keys converted to and from property names.</summary>
/// <typeparam name="TDictionary">The dictionary type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborDictionaryConverter<TDictionary, TKey, TValue> : CborConverter<TDictionary>
    where TKey : notnull
{
    private readonly CborKeyConverter<TKey> _keys;
    private readonly Func<Dictionary<TKey, TValue>, object>? _fromDictionary;
    private readonly Func<object>? _createEmpty;

    public CborDictionaryConverter(CborKeyConverter keys)
    {
        _keys = (CborKeyConverter<TKey>)keys;
        Type type = typeof(TDictionary);
        if (type.IsAssignableFrom(typeof(Dictionary<TKey, TValue>)))
        {
            _fromDictionary = static dictionary => dictionary;
        }
        else if (!type.IsValueType && !type.IsAbstract && type.IsAssignableTo(typeof(IDictionary<TKey, TValue>)) && CborConstructors.FindParameterless(type) is Func<object> create)
        {
            _createEmpty = create;
        }
        else
        {
            _fromDictionary = CborConstructors.FindWrapping<Dictionary<TKey, TValue>>(type);
        }
    }

    protected override CborValue WriteCore(TDictionary value, CborMappingContext context)
    {
        CborConverter<TValue> values = CborConverterCache<TValue>.Converter;
        context.EnterWrite(typeof(TDictionary));
        var map = new CborMap();
        foreach (KeyValuePair<TKey, TValue> entry in (IEnumerable<KeyValuePair<TKey, TValue>>)value!)
        {
            string key = _keys.ToName(entry.Key);
            context.PushName(key);
            map[key] = values.Write(entry.Value, context);
            context.Pop();
        }

        context.Exit();
        return map;
    }

    protected override TDictionary ReadCore(CborValue value, CborMappingContext context)
    {
        if (value is not CborMap map)
        {
            throw context.ReadError(typeof(TDictionary), value);
        }

        if (_createEmpty is null && _fromDictionary is null)
        {
            throw context.ReadError(typeof(TDictionary), value, "the dictionary type has no public parameterless constructor and no public constructor taking a Dictionary<TKey, TValue>");
        }

        CborConverter<TValue> values = CborConverterCache<TValue>.Converter;
        context.EnterRead(typeof(TDictionary), value);
        object? created = _createEmpty is null ? null : CborConstructors.Invoke(_createEmpty, typeof(TDictionary), value, context);
        IDictionary<TKey, TValue> target = (IDictionary<TKey, TValue>?)created ?? new Dictionary<TKey, TValue>(map.Count);
        if (target.IsReadOnly)
        {
            throw context.ReadError(typeof(TDictionary), value, "a new instance of the dictionary type is read-only");
        }

        foreach (KeyValuePair<string, CborValue> entry in map)
        {
            context.PushName(entry.Key);
            if (!_keys.TryParse(entry.Key, out TKey? key))
            {
                throw context.ReadError(typeof(TKey), new CborText(entry.Key), "the key is not valid for the dictionary's key type");
            }

            target[key] = values.Read(entry.Value, context);
            context.Pop();
        }

        context.Exit();
        if (created is not null)
        {
            return (TDictionary)created;
        }

        var dictionary = (Dictionary<TKey, TValue>)target;
        return (TDictionary)CborConstructors.Invoke(() => _fromDictionary!(dictionary), typeof(TDictionary), value, context);
    }
}

/// <summary>Dictionary keys ↔ property names, as JavaScript turns keys into strings.</summary>
internal abstract class CborKeyConverter
{
    [RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
    [RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
    public static CborKeyConverter? Create(Type type) =>
        type == typeof(string) ? new CborStringKeyConverter()
        : type == typeof(Guid) ? new CborGuidKeyConverter()
        : type == typeof(sbyte) ? new CborIntegerKeyConverter<sbyte>()
        : type == typeof(byte) ? new CborIntegerKeyConverter<byte>()
        : type == typeof(short) ? new CborIntegerKeyConverter<short>()
        : type == typeof(ushort) ? new CborIntegerKeyConverter<ushort>()
        : type == typeof(int) ? new CborIntegerKeyConverter<int>()
        : type == typeof(uint) ? new CborIntegerKeyConverter<uint>()
        : type == typeof(long) ? new CborIntegerKeyConverter<long>()
        : type == typeof(ulong) ? new CborIntegerKeyConverter<ulong>()
        : type.IsEnum ? (CborKeyConverter)Activator.CreateInstance(typeof(CborEnumKeyConverter<>).MakeGenericType(type))!
        : null;
}

internal abstract class CborKeyConverter<TKey> : CborKeyConverter
{
    public abstract string ToName(TKey key);

    public abstract bool TryParse(string name, [MaybeNullWhen(false)] out TKey key);
}

internal sealed class CborStringKeyConverter : CborKeyConverter<string>
{
    public override string ToName(string key) => key;

    public override bool TryParse(string name, out string key)
    {
        key = name;
        return true;
    }
}

internal sealed class CborGuidKeyConverter : CborKeyConverter<Guid>
{
    public override string ToName(Guid key) => key.ToString("D");

    public override bool TryParse(string name, out Guid key) => Guid.TryParse(name, out key);
}

internal sealed class CborIntegerKeyConverter<T> : CborKeyConverter<T>
    where T : struct, IBinaryInteger<T>
{
    public override string ToName(T key) => key.ToString(null, CultureInfo.InvariantCulture);

    public override bool TryParse(string name, out T key) => T.TryParse(name, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out key);
}

internal sealed class CborEnumKeyConverter<TEnum> : CborKeyConverter<TEnum>
    where TEnum : struct, Enum
{
    public override string ToName(TEnum key) => key.ToString();

    public override bool TryParse(string name, out TEnum key) => Enum.TryParse(name, ignoreCase: true, out key);
}

/// <summary>Constructors found once and invoked through <see cref="ConstructorInvoker"/>.</summary>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal static class CborConstructors
{
    public static Func<object>? FindParameterless(Type type)
    {
        if (type.IsValueType)
        {
            return () => Activator.CreateInstance(type)!;
        }

        if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is not ConstructorInfo constructor)
        {
            return null;
        }

        var invoker = ConstructorInvoker.Create(constructor);
        return invoker.Invoke;
    }

    /// <summary>Finds a public constructor with one parameter that accepts a <typeparamref name="TArgument"/>.</summary>
    public static Func<TArgument, object>? FindWrapping<TArgument>(Type type)
    {
        if (type.IsAbstract)
        {
            return null;
        }

        foreach (ConstructorInfo constructor in type.GetConstructors())
        {
            ParameterInfo[] parameters = constructor.GetParameters();
            if (parameters.Length == 1 && parameters[0].ParameterType.IsAssignableFrom(typeof(TArgument)))
            {
                var invoker = ConstructorInvoker.Create(constructor);
                return argument => invoker.Invoke(argument);
            }
        }

        return null;
    }

    /// <summary>Runs a constructor; an exception it throws becomes a <see cref="CborException"/> with the path.</summary>
    public static object Invoke(Func<object> create, Type type, CborValue value, CborMappingContext context)
    {
        try
        {
            return create();
        }
        catch (Exception exception) when (exception is not CborException)
        {
            Exception cause = exception is TargetInvocationException { InnerException: Exception inner } ? inner : exception;
            throw context.ReadError(type, value, $"creating the instance threw {cause.GetType().Name}: {cause.Message}", cause);
        }
    }
}
