using System.Globalization;
using System.Text.Json;
using Ataraxia.Cbor;

namespace Ataraxia.Tests.Cbor;

/// <summary>
/// Converts a JS value as written in <c>vectors.json</c> (plain JSON plus the <c>$</c>-markers described in
/// <c>shared/protocol/vectors/README.md</c>) into the <see cref="CborValue"/> a C# node should see for it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>JSON numbers: <see cref="CborInteger"/> when integral and within ±(2^53 − 1), else <see cref="CborFloat"/>.</item>
/// <item><c>{$bytes, $js}</c>: <see cref="CborBytes"/>; <c>$js</c> is irrelevant because ArrayBuffer, Buffer and
/// Uint8Array all encode as a byte string and always decode to Uint8Array.</item>
/// <item><c>{$undefined}</c>: <see cref="CborValue.Undefined"/>. <c>{$number}</c>: NaN, ±Infinity or −0 as <see cref="CborFloat"/>.</item>
/// <item><c>{$date}</c>: <see cref="CborDate"/>. <c>{$regexp: "/src/flags"}</c>: <see cref="CborTagged"/> 35 around the text.</item>
/// <item><c>{$tag, value}</c>: <see cref="CborTagged"/>. <c>{$simple}</c>: <see cref="CborSimple"/>.</item>
/// <item><c>{$set}</c> and <c>{$map}</c>: an empty <see cref="CborMap"/>, because JS encodes a Set or Map as <c>a0</c>.</item>
/// <item>Other objects: <see cref="CborMap"/> with keys inserted in JSON order (which is the JS property order).</item>
/// </list>
/// An object with an unknown <c>$</c>-key throws, so a new marker in the vectors cannot be mistaken for a plain map.
/// <c>{$error}</c> is not a value; use <see cref="IsError"/> first.
/// </remarks>
internal static class JsValueConverter
{
    /// <summary>The JS <c>RegExp</c> tag (WIRE.md §2.1).</summary>
    public const ulong RegExpTag = 35;

    /// <summary>Converts one vector value.</summary>
    /// <param name="element">The JSON value.</param>
    /// <returns>The expected CBOR value.</returns>
    public static CborValue ToCbor(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => CborValue.Null,
        JsonValueKind.True => CborValue.True,
        JsonValueKind.False => CborValue.False,
        JsonValueKind.Number => FromNumber(element.GetDouble()),
        JsonValueKind.String => new CborText(element.GetString()!),
        JsonValueKind.Array => new CborArray(element.EnumerateArray().Select(ToCbor).ToList()),
        JsonValueKind.Object => FromObject(element),
        _ => throw new NotSupportedException($"Unexpected JSON value kind {element.ValueKind}."),
    };

    /// <summary>Converts a JS number the way the JS encoder classifies it (safe integer or not).</summary>
    /// <param name="value">The number.</param>
    /// <returns>An integer or float value.</returns>
    public static CborValue FromNumber(double value) =>
        Math.Floor(value) == value && Math.Abs(value) <= CborWriter.MaxSafeInteger && !(value == 0 && double.IsNegative(value))
            ? new CborInteger((long)value)
            : new CborFloat(value);

    /// <summary>Tells whether a vector value is the <c>{$error: message}</c> marker.</summary>
    /// <param name="element">The JSON value.</param>
    /// <param name="message">The JS error message.</param>
    /// <returns><see langword="true"/> for an error marker.</returns>
    public static bool IsError(JsonElement element, out string message)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$error", out JsonElement error))
        {
            message = error.GetString()!;
            return true;
        }

        message = string.Empty;
        return false;
    }

    private static CborValue FromObject(JsonElement element)
    {
        if (element.TryGetProperty("$bytes", out JsonElement bytes))
        {
            ExpectOnly(element, "$bytes", "$js");
            return new CborBytes(Convert.FromHexString(bytes.GetString()!));
        }

        if (element.TryGetProperty("$undefined", out _))
        {
            ExpectOnly(element, "$undefined");
            return CborValue.Undefined;
        }

        if (element.TryGetProperty("$number", out JsonElement number))
        {
            ExpectOnly(element, "$number");
            return number.GetString() switch
            {
                "NaN" => new CborFloat(double.NaN),
                "Infinity" => new CborFloat(double.PositiveInfinity),
                "-Infinity" => new CborFloat(double.NegativeInfinity),
                "-0" => new CborFloat(double.NegativeZero),
                string other => throw new NotSupportedException($"Unknown $number '{other}'."),
                null => throw new NotSupportedException("$number is not a string."),
            };
        }

        if (element.TryGetProperty("$date", out JsonElement date))
        {
            ExpectOnly(element, "$date");
            return new CborDate(DateTimeOffset.Parse(date.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal));
        }

        if (element.TryGetProperty("$regexp", out JsonElement regexp))
        {
            ExpectOnly(element, "$regexp");
            return new CborTagged(RegExpTag, new CborText(regexp.GetString()!));
        }

        if (element.TryGetProperty("$tag", out JsonElement tag))
        {
            ExpectOnly(element, "$tag", "value");
            return new CborTagged(tag.GetUInt64(), ToCbor(element.GetProperty("value")));
        }

        if (element.TryGetProperty("$simple", out JsonElement simple))
        {
            ExpectOnly(element, "$simple");
            return new CborSimple(simple.GetByte());
        }

        if (element.TryGetProperty("$set", out _) || element.TryGetProperty("$map", out _))
        {
            // A JS Set or Map has no enumerable own properties: the encoder writes an empty map (a0).
            return new CborMap();
        }

        var map = new CborMap();
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (property.Name.StartsWith('$'))
            {
                throw new NotSupportedException($"Unknown vector marker '{property.Name}'.");
            }

            map[property.Name] = ToCbor(property.Value);
        }

        return map;
    }

    private static void ExpectOnly(JsonElement element, params string[] names)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (Array.IndexOf(names, property.Name) < 0)
            {
                throw new NotSupportedException($"Unexpected property '{property.Name}' next to marker '{names[0]}'.");
            }
        }
    }
}
