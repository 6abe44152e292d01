using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Reflection;

namespace Ataraxia.Cbor;

/// <summary>Maps one .NET type to and from <see cref="CborValue"/>; created once per type and cached.</summary>
internal abstract class CborConverter
{
    public abstract Type Type { get; }

    /// <summary>Gets a value indicating whether <c>null</c> and <c>undefined</c> reach the converter as they are.</summary>
    /// <remarks>Only a <see cref="CborValue"/> target does this; the others turn them into <see langword="null"/> or a default.</remarks>
    public virtual bool HandlesNull => false;

    public abstract CborValue WriteBoxed(object? value, CborMappingContext context);

    public abstract object? ReadBoxed(CborValue value, CborMappingContext context);
}

/// <summary>A converter for <typeparamref name="T"/> that handles <see langword="null"/> and <c>undefined</c> uniformly.</summary>
/// <typeparam name="T">The .NET type.</typeparam>
internal abstract class CborConverter<T> : CborConverter
{
    // True for reference types and Nullable<T>.
    private static readonly bool CanBeNull = default(T) is null;

    public sealed override Type Type => typeof(T);

    public CborValue Write(T value, CborMappingContext context) => value is null ? CborValue.Null : WriteCore(value, context);

    /// <summary>Reads a value; <c>undefined</c> gives the default, <c>null</c> gives <see langword="null"/> where the type allows it.</summary>
    public T Read(CborValue value, CborMappingContext context)
    {
        if (value.IsNullOrUndefined && !HandlesNull)
        {
            if (value.Kind == CborValueKind.Null && !CanBeNull)
            {
                throw context.ReadError(typeof(T), value, "the type is not nullable");
            }

            return default!;
        }

        return ReadCore(value, context);
    }

    public sealed override CborValue WriteBoxed(object? value, CborMappingContext context) => value is null ? CborValue.Null : WriteCore((T)value, context);

    public sealed override object? ReadBoxed(CborValue value, CborMappingContext context) => Read(value, context);

    /// <summary>Writes a value that is not <see langword="null"/>.</summary>
    protected abstract CborValue WriteCore(T value, CborMappingContext context);

    /// <summary>Reads a value that is not <c>null</c> or <c>undefined</c> (unless <see cref="CborConverter.HandlesNull"/>).</summary>
    protected abstract T ReadCore(CborValue value, CborMappingContext context);
}

/// <summary>The converters, one per type, created on first use.</summary>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal static class CborConverterCache
{
    private static readonly ConcurrentDictionary<Type, CborConverter> Converters = new(CreatePrimitives());

    private static readonly Type[] UnsupportedTypes =
    [
        typeof(IntPtr), typeof(UIntPtr), typeof(BigInteger), typeof(Complex), typeof(ValueTask),
    ];

    public static CborConverter Get(Type type) => Converters.GetOrAdd(type, static t => Create(t));

    private static CborConverter Create(Type type)
    {
        try
        {
            return CreateCore(type);
        }
        catch (Exception exception) when (Unwrap(exception) is CborException or ArgumentException or NotSupportedException or InvalidOperationException or AmbiguousMatchException or CustomAttributeFormatException)
        {
            // Report the problem where the type is used, with the path, rather than from the cache.
            return Invalid(type, Unwrap(exception).Message);
        }
    }

    // Converters are created through Activator, which wraps what their constructors throw.
    private static Exception Unwrap(Exception exception) => exception is TargetInvocationException { InnerException: Exception inner } ? inner : exception;

    private static CborConverter CreateCore(Type type)
    {
        if (type.IsAssignableTo(typeof(CborValue)))
        {
            return Instantiate(typeof(CborPassThroughConverter<>), [type]);
        }

        if (type == typeof(object))
        {
            return new CborNaturalObjectConverter();
        }

        if (Nullable.GetUnderlyingType(type) is Type underlying)
        {
            return Instantiate(typeof(CborNullableConverter<>), [underlying]);
        }

        if (type.IsEnum)
        {
            return Instantiate(typeof(CborEnumConverter<>), [type]);
        }

        if (type.IsArray)
        {
            return type.IsSZArray
                ? Instantiate(typeof(CborArrayConverter<>), [type.GetElementType()!])
                : Invalid(type, "multi-dimensional arrays are not supported; use jagged arrays");
        }

        if (typeof(Delegate).IsAssignableFrom(type)
            || typeof(MemberInfo).IsAssignableFrom(type)
            || typeof(Task).IsAssignableFrom(type)
            || Array.IndexOf(UnsupportedTypes, type) >= 0
            || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTask<>)))
        {
            return Invalid(type, "the type is not supported");
        }

        if (FindDictionary(type) is Type[] keyValue)
        {
            return CborKeyConverter.Create(keyValue[0]) is CborKeyConverter keys
                ? Instantiate(typeof(CborDictionaryConverter<,,>), [type, keyValue[0], keyValue[1]], keys)
                : Invalid(type, $"dictionary keys of type {CborMappingContext.TypeName(keyValue[0])} are not supported; use string, integer, Guid or enum keys");
        }

        if (FindEnumerable(type) is Type element)
        {
            return Instantiate(typeof(CborCollectionConverter<,>), [type, element]);
        }

        if (typeof(System.Collections.IEnumerable).IsAssignableFrom(type))
        {
            return Invalid(type, "non-generic collections are not supported; use a generic collection");
        }

        return type.IsAbstract || type.IsInterface
            ? Instantiate(typeof(CborAbstractConverter<>), [type])
            : Instantiate(typeof(CborObjectConverter<>), [type]);
    }

    private static CborConverter Instantiate(Type definition, Type[] arguments, params object[] constructorArguments) =>
        (CborConverter)Activator.CreateInstance(definition.MakeGenericType(arguments), constructorArguments)!;

    private static CborConverter Invalid(Type type, string reason) => Instantiate(typeof(CborInvalidConverter<>), [type], reason);

    private static Type[]? FindDictionary(Type type)
    {
        if (IsGeneric(type, typeof(IDictionary<,>)) || IsGeneric(type, typeof(IReadOnlyDictionary<,>)))
        {
            return type.GetGenericArguments();
        }

        Type[] interfaces = type.GetInterfaces();
        Type? found = interfaces.FirstOrDefault(i => IsGeneric(i, typeof(IDictionary<,>)))
            ?? interfaces.FirstOrDefault(i => IsGeneric(i, typeof(IReadOnlyDictionary<,>)));
        return found?.GetGenericArguments();
    }

    private static Type? FindEnumerable(Type type)
    {
        if (IsGeneric(type, typeof(IEnumerable<>)))
        {
            return type.GetGenericArguments()[0];
        }

        Type[] elements = [.. type.GetInterfaces().Where(i => IsGeneric(i, typeof(IEnumerable<>))).Select(i => i.GetGenericArguments()[0])];
        return elements.Length switch
        {
            0 => null,
            1 => elements[0],
            _ => throw new NotSupportedException($"the type implements IEnumerable<T> for several element types ({string.Join(", ", elements.Select(CborMappingContext.TypeName))})"),
        };
    }

    private static bool IsGeneric(Type type, Type definition) => type.IsGenericType && type.GetGenericTypeDefinition() == definition;

    private static Dictionary<Type, CborConverter> CreatePrimitives()
    {
        CborConverter[] converters =
        [
            new CborBooleanConverter(),
            new CborIntegerConverter<sbyte>(), new CborIntegerConverter<byte>(),
            new CborIntegerConverter<short>(), new CborIntegerConverter<ushort>(),
            new CborIntegerConverter<int>(), new CborIntegerConverter<uint>(),
            new CborIntegerConverter<long>(), new CborIntegerConverter<ulong>(),
            new CborIntegerConverter<Int128>(), new CborIntegerConverter<UInt128>(),
            new CborDoubleConverter(), new CborSingleConverter(), new CborHalfConverter(), new CborDecimalConverter(),
            new CborStringConverter(), new CborCharConverter(), new CborGuidConverter(), new CborUriConverter(), new CborVersionConverter(),
            new CborByteArrayConverter(), new CborReadOnlyMemoryConverter(), new CborMemoryConverter(),
            new CborDateTimeConverter(), new CborDateTimeOffsetConverter(), new CborDateOnlyConverter(), new CborTimeOnlyConverter(),
            new CborTimeSpanConverter(),
        ];
        return converters.ToDictionary(c => c.Type);
    }
}

/// <summary>The converter of <typeparamref name="T"/>, without a dictionary lookup after the first use.</summary>
/// <typeparam name="T">The .NET type.</typeparam>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal static class CborConverterCache<T>
{
    private static CborConverter<T>? _converter;

    // A benign race: two threads may both look the converter up; both get the cached instance.
    public static CborConverter<T> Converter => _converter ??= (CborConverter<T>)CborConverterCache.Get(typeof(T));
}

/// <summary>A type that cannot be mapped; the error is reported where it is used, with the path.</summary>
/// <typeparam name="T">The .NET type.</typeparam>
/// <param name="reason">Why the type cannot be mapped.</param>
internal sealed class CborInvalidConverter<T>(string reason) : CborConverter<T>
{
    protected override CborValue WriteCore(T value, CborMappingContext context) => throw context.WriteError(typeof(T), reason);

    protected override T ReadCore(CborValue value, CborMappingContext context) => throw context.ReadError(typeof(T), value, reason);
}

/// <summary><see cref="CborValue"/> and its subclasses, passed through unchanged.</summary>
/// <typeparam name="T">The CBOR value type.</typeparam>
internal sealed class CborPassThroughConverter<T> : CborConverter<T>
    where T : CborValue
{
    // A CborValue target receives null and undefined as they are; a CborMap target gets null for them.
    public override bool HandlesNull => typeof(T) == typeof(CborValue);

    protected override CborValue WriteCore(T value, CborMappingContext context) => value;

    protected override T ReadCore(CborValue value, CborMappingContext context) => value as T ?? throw context.ReadError(typeof(T), value);
}

/// <summary><see cref="Nullable{T}"/>: <see langword="null"/> or the underlying value.</summary>
/// <typeparam name="T">The underlying type.</typeparam>
[RequiresUnreferencedCode(CborSerializer.UnreferencedCodeMessage)]
[RequiresDynamicCode(CborSerializer.DynamicCodeMessage)]
internal sealed class CborNullableConverter<T> : CborConverter<T?>
    where T : struct
{
    protected override CborValue WriteCore(T? value, CborMappingContext context) => CborConverterCache<T>.Converter.Write(value.GetValueOrDefault(), context);

    protected override T? ReadCore(CborValue value, CborMappingContext context) => CborConverterCache<T>.Converter.Read(value, context);
}
