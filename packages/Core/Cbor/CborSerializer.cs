using System.Diagnostics.CodeAnalysis;

namespace Ataraxia.Cbor;

/// <summary>
/// Maps .NET values to and from <see cref="CborValue"/> the way JavaScript peers see them (WIRE.md §7.3), so that
/// application payloads can be sent and received as ordinary records and classes.
/// </summary>
/// <remarks>
/// <para><b>Mapping.</b></para>
/// <list type="bullet">
/// <item><description><see langword="null"/> ↔ <c>null</c>. <c>undefined</c> reads as <see langword="null"/> or the default value; a map
/// entry whose value is <c>undefined</c> counts as absent. <c>null</c> into a non-nullable value type (such as <see cref="int"/>)
/// is an error; use <see cref="Nullable{T}"/>.</description></item>
/// <item><description><see cref="bool"/> ↔ <c>true</c>/<c>false</c>.</description></item>
/// <item><description>Integer types (<see cref="sbyte"/> … <see cref="ulong"/>, <see cref="Int128"/>, <see cref="UInt128"/>) ↔ integers.
/// Writing a value beyond ±(2^53 − 1) throws, because JavaScript cannot represent it exactly. Reading accepts integers and
/// integral floats, and throws when the number does not fit the target type.</description></item>
/// <item><description><see cref="double"/>, <see cref="float"/>, <see cref="Half"/>, <see cref="decimal"/> ↔ numbers (a
/// <see cref="decimal"/> travels as a <see cref="double"/>, so it keeps about 15 significant digits).</description></item>
/// <item><description><see cref="string"/> ↔ text; <see cref="char"/> ↔ a text of exactly one UTF-16 code unit;
/// <see cref="Guid"/> ↔ text in the <c>"D"</c> format (any <see cref="Guid.TryParse(string?, out Guid)"/> format on read);
/// <see cref="Uri"/> and <see cref="Version"/> ↔ text; <see cref="DateOnly"/> ↔ <c>"yyyy-MM-dd"</c>;
/// <see cref="TimeOnly"/> ↔ <c>"HH:mm:ss[.fffffff]"</c>.</description></item>
/// <item><description><see cref="byte"/>[], <see cref="ReadOnlyMemory{T}"/> and <see cref="Memory{T}"/> of bytes ↔ byte strings.</description></item>
/// <item><description><see cref="DateTimeOffset"/> and <see cref="DateTime"/> ↔ dates (tag 0), in whole seconds as JavaScript sends them:
/// writing truncates to the second. A <see cref="DateTime"/> of kind <see cref="DateTimeKind.Unspecified"/> is taken as UTC, a local
/// one is converted to UTC; reading gives UTC (<see cref="DateTimeKind.Utc"/>, offset zero). ISO 8601 text is also accepted on read.</description></item>
/// <item><description><see cref="TimeSpan"/> ↔ a number of milliseconds (as JavaScript timeouts and <c>Date</c> differences use).</description></item>
/// <item><description>Enums ↔ the member name as it is declared (combined flags as <c>"Read, Write"</c>, a value with no name as its
/// number); reading accepts names case-insensitively (so <c>"red"</c> reads as <c>Red</c>) and integers.</description></item>
/// <item><description>Arrays and generic collections (<see cref="List{T}"/>, <see cref="IList{T}"/>, <see cref="IReadOnlyList{T}"/>,
/// <see cref="IEnumerable{T}"/>, <see cref="ICollection{T}"/>, <see cref="HashSet{T}"/>, <see cref="ISet{T}"/>, …) ↔ arrays.
/// Any <see cref="IEnumerable{T}"/> can be written; reading creates a <see cref="List{T}"/> or <see cref="HashSet{T}"/> for
/// interfaces, or the concrete type through a parameterless constructor and <see cref="ICollection{T}.Add"/>.</description></item>
/// <item><description>Dictionaries (<see cref="Dictionary{TKey, TValue}"/>, <see cref="IDictionary{TKey, TValue}"/>,
/// <see cref="IReadOnlyDictionary{TKey, TValue}"/>, …) ↔ maps. Keys may be strings (as they are), integers, <see cref="Guid"/>s or enums,
/// which are converted to and from property names as JavaScript does; the map keeps JavaScript key order
/// (see <see cref="CborMap"/>).</description></item>
/// <item><description><see cref="object"/>: written by the runtime type of the value; read into the natural .NET type —
/// <see langword="null"/>, <see cref="bool"/>, <see cref="long"/> (integers), <see cref="double"/>, <see cref="string"/>,
/// <see cref="byte"/>[], <see cref="DateTimeOffset"/>, <see cref="List{T}"/> of <see cref="object"/>,
/// <see cref="Dictionary{TKey, TValue}"/> of <see cref="string"/> to <see cref="object"/>, and the <see cref="CborValue"/> itself
/// for other tags and simple values. The same runtime-type rule applies to properties declared as an interface or abstract class.</description></item>
/// <item><description><see cref="CborValue"/> and its subclasses pass through unchanged.</description></item>
/// <item><description>Records, classes and structs ↔ maps of their public readable instance properties (not fields), in declaration order
/// (base class first), named in camelCase as <c>System.Text.Json</c>'s <c>JsonNamingPolicy.CamelCase</c> does
/// (<c>X</c> → <c>x</c>, <c>FirstName</c> → <c>firstName</c>, <c>ID</c> → <c>id</c>), unless
/// <see cref="CborPropertyNameAttribute"/> says otherwise; <see cref="CborIgnoreAttribute"/> skips a property. Properties that are
/// <see langword="null"/> are written as <c>null</c>, not left out. A property declared with a concrete class type is written as that
/// type, even when it holds an instance of a derived class.</description></item>
/// </list>
/// <para><b>Reading objects.</b> Map keys are matched to properties by name (an exact match first, then ignoring case);
/// unknown keys are ignored and missing keys leave the value the constructor gave. An object is created through its public
/// parameterless constructor and then its public <c>set</c> or <c>init</c> accessors; a type without one (such as a positional
/// record) is created through the public constructor with the most parameters whose names all match properties (ignoring case),
/// where a missing parameter gets its default value. Properties without a public setter that the constructor does not cover
/// are not read, even when they hold a mutable collection. Nullable reference annotations are not enforced: a <c>null</c> can reach
/// a property declared as non-nullable <see cref="string"/>.</para>
/// <para><b>Limits and errors.</b> Arrays, maps and objects may nest at most <see cref="MaxDepth"/> levels, so a cyclic object graph
/// fails with a <see cref="CborException"/> instead of overflowing the stack. Every mapping error is a <see cref="CborException"/>
/// whose message names the .NET type and the path in the payload, for example <c>$.items[2].count</c>.</para>
/// <para><b>Performance and thread safety.</b> The members and constructors of every type are inspected once and cached; the methods
/// are thread-safe. Property accessors are bound to delegates (reflection invocation is only a fallback for an accessor that cannot
/// be bound). Types with public fields but no public properties, such as value tuples, are rejected rather than written as <c>{}</c>.</para>
/// <para><b>Trimming and native AOT.</b> The mapping of arbitrary types uses reflection and creates generic types at run time, so the
/// entry points are marked <see cref="RequiresUnreferencedCodeAttribute"/> and <see cref="RequiresDynamicCodeAttribute"/>. A
/// <see cref="CborValue"/> passed to <see cref="ToValue{T}(T)"/>, or a <see cref="CborValue"/> target of <see cref="FromValue{T}(CborValue)"/>,
/// is handled before any reflection; code that must stay trim-safe can build and read <see cref="CborValue"/> instances directly.</para>
/// </remarks>
public static class CborSerializer
{
    /// <summary>The maximum nesting of arrays, maps and objects that the serializer maps.</summary>
    /// <remarks>Equal to <see cref="CborReader.DefaultMaxDepth"/>, so whatever is written can be decoded with the default limit.</remarks>
    public const int MaxDepth = CborReader.DefaultMaxDepth;

    internal const string UnreferencedCodeMessage =
        "CborSerializer maps .NET types through reflection over their public properties and constructors, which trimming may remove. "
        + "Keep the mapped types' public members, or build and read CborValue instances directly.";

    internal const string DynamicCodeMessage =
        "CborSerializer creates generic converter types for the mapped .NET types at run time, which native AOT may not have compiled. "
        + "Build and read CborValue instances directly in native AOT applications.";

    /// <summary>Maps a .NET value to a CBOR value, using <typeparamref name="T"/> as the declared type.</summary>
    /// <typeparam name="T">The declared type; <see cref="object"/>, interfaces and abstract classes use the runtime type.</typeparam>
    /// <param name="value">The value; a <see cref="CborValue"/> is returned as it is.</param>
    /// <returns>The CBOR value (<see cref="CborValue.Null"/> for <see langword="null"/>).</returns>
    /// <exception cref="CborException">The value cannot be mapped (an unsupported type, an integer beyond ±(2^53 − 1),
    /// nesting deeper than <see cref="MaxDepth"/>, or a property getter that threw).</exception>
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    [RequiresDynamicCode(DynamicCodeMessage)]
    public static CborValue ToValue<T>(T value)
    {
        if (value is CborValue cbor)
        {
            return cbor;
        }

        return value is null ? CborValue.Null : CborConverterCache<T>.Converter.Write(value, new CborMappingContext());
    }

    /// <summary>Maps a .NET value to a CBOR value, using <paramref name="type"/> as the declared type.</summary>
    /// <param name="value">The value; a <see cref="CborValue"/> is returned as it is.</param>
    /// <param name="type">The declared type; <see cref="object"/>, interfaces and abstract classes use the runtime type.</param>
    /// <returns>The CBOR value (<see cref="CborValue.Null"/> for <see langword="null"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not an instance of <paramref name="type"/>, or
    /// <paramref name="type"/> cannot hold values (open generic, pointer, by-ref or by-ref-like type).</exception>
    /// <exception cref="CborException">The value cannot be mapped.</exception>
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    [RequiresDynamicCode(DynamicCodeMessage)]
    public static CborValue ToValue(object? value, Type type)
    {
        ValidateType(type);
        if (value is null)
        {
            return CborValue.Null;
        }

        if (!type.IsInstanceOfType(value))
        {
            throw new ArgumentException($"The value is a {CborMappingContext.TypeName(value.GetType())}, not a {CborMappingContext.TypeName(type)}.", nameof(value));
        }

        return value is CborValue cbor ? cbor : CborConverterCache.Get(type).WriteBoxed(value, new CborMappingContext());
    }

    /// <summary>Maps a CBOR value to a .NET value of type <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The target type; for a <see cref="CborValue"/> type the value is returned as it is.</typeparam>
    /// <param name="value">The CBOR value.</param>
    /// <returns>The .NET value; <see langword="null"/> or the default value for <c>null</c> and <c>undefined</c>.</returns>
    /// <exception cref="CborException">The value does not fit <typeparamref name="T"/>; the message names the type and the path.</exception>
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    [RequiresDynamicCode(DynamicCodeMessage)]
    public static T? FromValue<T>(CborValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (typeof(T).IsAssignableTo(typeof(CborValue)))
        {
            return ReadCborValue(value, typeof(T)) is T result ? result : default;
        }

        return CborConverterCache<T>.Converter.Read(value, new CborMappingContext());
    }

    /// <summary>Maps a CBOR value to a .NET value of type <paramref name="type"/>.</summary>
    /// <param name="value">The CBOR value.</param>
    /// <param name="type">The target type; for a <see cref="CborValue"/> type the value is returned as it is.</param>
    /// <returns>The .NET value; <see langword="null"/> or the default value for <c>null</c> and <c>undefined</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="type"/> cannot hold values (open generic, pointer, by-ref or by-ref-like type).</exception>
    /// <exception cref="CborException">The value does not fit <paramref name="type"/>; the message names the type and the path.</exception>
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    [RequiresDynamicCode(DynamicCodeMessage)]
    public static object? FromValue(CborValue value, Type type)
    {
        ArgumentNullException.ThrowIfNull(value);
        ValidateType(type);
        if (type.IsAssignableTo(typeof(CborValue)))
        {
            return ReadCborValue(value, type);
        }

        return CborConverterCache.Get(type).ReadBoxed(value, new CborMappingContext());
    }

    /// <summary>Maps a .NET value to CBOR and encodes it: <c>ToValue(value).Encode()</c>.</summary>
    /// <typeparam name="T">The declared type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The encoded CBOR item.</returns>
    /// <exception cref="CborException">The value cannot be mapped.</exception>
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    [RequiresDynamicCode(DynamicCodeMessage)]
    public static byte[] Serialize<T>(T value) => ToValue(value).Encode();

    /// <summary>Decodes exactly one CBOR item and maps it to <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The target type.</typeparam>
    /// <param name="cbor">The encoded item.</param>
    /// <returns>The .NET value.</returns>
    /// <exception cref="CborException">The input is not one valid CBOR item, or it does not fit <typeparamref name="T"/>.</exception>
    [RequiresUnreferencedCode(UnreferencedCodeMessage)]
    [RequiresDynamicCode(DynamicCodeMessage)]
    public static T? Deserialize<T>(ReadOnlySpan<byte> cbor) => FromValue<T>(CborValue.Decode(cbor));

    /// <summary>Gets a value indicating whether a converter can exist for the type (it can be a generic argument).</summary>
    internal static bool CanHoldValues(Type type) =>
        !type.ContainsGenericParameters && !type.IsByRef && !type.IsPointer && !type.IsFunctionPointer && !type.IsByRefLike && type != typeof(void);

    // CborValue targets need no converter (and so no reflection): the value itself, or null when it is null/undefined.
    private static CborValue? ReadCborValue(CborValue value, Type type)
    {
        if (type.IsInstanceOfType(value))
        {
            return value;
        }

        if (value.IsNullOrUndefined)
        {
            return null;
        }

        throw new CborMappingContext().ReadError(type, value);
    }

    private static void ValidateType(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!CanHoldValues(type))
        {
            throw new ArgumentException($"{CborMappingContext.TypeName(type)} cannot hold values (open generic, pointer, by-ref, by-ref-like or void type).", nameof(type));
        }
    }
}
