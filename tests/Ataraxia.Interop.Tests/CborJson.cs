using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ataraxia.Cbor;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Maps payload values to and from the JSON that <c>js/node.js</c> speaks: byte strings as
/// <c>{"$bytes":"hex"}</c>, undefined as <c>{"$undefined":true}</c>, dates as <c>{"$date":"iso"}</c>,
/// non-finite numbers and negative zero as <c>{"$number":"NaN"}</c> (<c>"Infinity"</c>, <c>"-Infinity"</c>,
/// <c>"-0"</c>); everything else as plain JSON.
/// </summary>
public static class CborJson
{
    public static JsonNode? ToJson(CborValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value)
        {
            case CborInteger i:
                return JsonValue.Create(i.Value);
            case CborFloat f when f.Value == 0 && double.IsNegative(f.Value):
                return Marker("$number", "-0"); // JSON has no negative zero
            case CborFloat f when double.IsFinite(f.Value):
                return JsonValue.Create(f.Value);
            case CborFloat f:
                return Marker("$number", double.IsNaN(f.Value) ? "NaN" : f.Value > 0 ? "Infinity" : "-Infinity");
            case CborText t:
                return JsonValue.Create(t.Value);
            case CborBytes b:
                return Marker("$bytes", Convert.ToHexStringLower(b.Value.Span));
            case CborDate d:
                return Marker("$date", d.Value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            case CborArray a:
                return new JsonArray([.. a.Select(ToJson)]);
            case CborMap m:
                var map = new JsonObject();
                foreach (KeyValuePair<string, CborValue> entry in m)
                {
                    map[entry.Key] = ToJson(entry.Value);
                }

                return map;
        }

        return value.Kind switch
        {
            CborValueKind.Null => null,
            CborValueKind.Undefined => new JsonObject { ["$undefined"] = true },
            CborValueKind.Boolean => JsonValue.Create(value.AsBoolean()),
            _ => throw new NotSupportedException($"No JSON form for a CBOR {value.Kind}."),
        };
    }

    public static CborValue FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return CborValue.Null;
            case JsonArray array:
                return new CborArray(array.Select(FromJson));
            case JsonObject obj when obj.Count == 1 && obj.First().Key.StartsWith('$'):
                (string key, JsonNode? inner) = obj.First();
                return key switch
                {
                    "$bytes" => new CborBytes(Convert.FromHexString((string)inner!)),
                    "$undefined" => CborValue.Undefined,
                    "$number" => new CborFloat(double.Parse((string)inner!, CultureInfo.InvariantCulture)),
                    "$date" => new CborDate(DateTimeOffset.Parse((string)inner!, CultureInfo.InvariantCulture)),
                    _ => throw new NotSupportedException($"Unknown JSON marker {key}."),
                };
            case JsonObject obj:
                var map = new CborMap();
                foreach (KeyValuePair<string, JsonNode?> entry in obj)
                {
                    map[entry.Key] = FromJson(entry.Value);
                }

                return map;
            case JsonValue value:
                return value.GetValueKind() switch
                {
                    JsonValueKind.True => CborValue.True,
                    JsonValueKind.False => CborValue.False,
                    JsonValueKind.String => new CborText(value.GetValue<string>()),
                    JsonValueKind.Number when value.TryGetValue(out long integer) && integer is >= CborWriter.MinSafeInteger and <= CborWriter.MaxSafeInteger => new CborInteger(integer),
                    JsonValueKind.Number => new CborFloat(value.GetValue<double>()),
                    JsonValueKind kind => throw new NotSupportedException($"No CBOR form for JSON {kind}."),
                };
            default:
                throw new NotSupportedException($"No CBOR form for {node.GetType().Name}.");
        }
    }

    /// <summary>
    /// Compares two JSON values exactly: numbers by their double value (bit for bit, so <c>1</c> equals
    /// <c>1.0</c> but not <c>1.0000000000000002</c>), strings ordinally, arrays in order, objects by key set
    /// (JavaScript objects put integer-like keys first, so key order is not compared here).
    /// </summary>
    /// <returns><see langword="null"/> when equal, otherwise the path and description of the first difference.</returns>
    public static string? JsonDifference(JsonNode? expected, JsonNode? actual, string path = "$")
    {
        switch (expected, actual)
        {
            case (null, null):
                return null;
            case (null, _) or (_, null):
                return $"{path}: expected {Text(expected)}, got {Text(actual)}";
            case (JsonObject e, JsonObject a):
                foreach (KeyValuePair<string, JsonNode?> entry in e)
                {
                    if (!a.TryGetPropertyValue(entry.Key, out JsonNode? value))
                    {
                        return $"{path}: missing key \"{entry.Key}\"";
                    }

                    if (JsonDifference(entry.Value, value, $"{path}.{entry.Key}") is { } inner)
                    {
                        return inner;
                    }
                }

                string? extra = a.Select(p => p.Key).FirstOrDefault(k => !e.ContainsKey(k));
                return extra is null ? null : $"{path}: unexpected key \"{extra}\"";
            case (JsonArray e, JsonArray a):
                if (e.Count != a.Count)
                {
                    return $"{path}: expected {e.Count} items, got {a.Count}";
                }

                for (int i = 0; i < e.Count; i++)
                {
                    if (JsonDifference(e[i], a[i], $"{path}[{i}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case (JsonValue e, JsonValue a):
                JsonValueKind kind = e.GetValueKind();
                if (kind != a.GetValueKind())
                {
                    return $"{path}: expected {Text(e)}, got {Text(a)}";
                }

                bool same = kind switch
                {
                    JsonValueKind.Number => BitConverter.DoubleToInt64Bits(NumberOf(e)) == BitConverter.DoubleToInt64Bits(NumberOf(a)),
                    JsonValueKind.String => string.Equals(e.GetValue<string>(), a.GetValue<string>(), StringComparison.Ordinal),
                    _ => true, // true, false
                };
                return same ? null : $"{path}: expected {Text(e)}, got {Text(a)}";
            default:
                return $"{path}: expected {Text(expected)}, got {Text(actual)}";
        }
    }

    /// <summary>
    /// Compares two decoded payloads exactly: same kinds (an integer is not a float), floats bit for bit (any
    /// NaN equals any NaN), text ordinally, bytes, arrays and map entries in order, dates to the tick.
    /// </summary>
    /// <returns><see langword="null"/> when equal, otherwise the path and description of the first difference.</returns>
    public static string? CborDifference(CborValue expected, CborValue actual, string path = "$")
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        if (expected.Kind != actual.Kind)
        {
            return $"{path}: expected {expected.Kind} {expected}, got {actual.Kind} {actual}";
        }

        switch (expected, actual)
        {
            case (CborFloat e, CborFloat a):
                bool same = (double.IsNaN(e.Value) && double.IsNaN(a.Value)) || BitConverter.DoubleToInt64Bits(e.Value) == BitConverter.DoubleToInt64Bits(a.Value);
                return same ? null : $"{path}: expected {e.Value:R}, got {a.Value:R}";
            case (CborDate e, CborDate a):
                return e.Value.UtcTicks == a.Value.UtcTicks ? null : $"{path}: expected {e}, got {a}";
            case (CborArray e, CborArray a):
                if (e.Count != a.Count)
                {
                    return $"{path}: expected {e.Count} items, got {a.Count}";
                }

                for (int i = 0; i < e.Count; i++)
                {
                    if (CborDifference(e[i], a[i], $"{path}[{i}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case (CborMap e, CborMap a):
                string[] expectedKeys = [.. e.Keys];
                string[] actualKeys = [.. a.Keys];
                if (!expectedKeys.SequenceEqual(actualKeys, StringComparer.Ordinal))
                {
                    return $"{path}: expected keys [{string.Join(", ", expectedKeys)}], got [{string.Join(", ", actualKeys)}]";
                }

                foreach (string key in expectedKeys)
                {
                    if (CborDifference(e[key], a[key], $"{path}.{key}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return expected.Equals(actual) ? null : $"{path}: expected {expected}, got {actual}";
        }
    }

    // The value of a JSON number however the node holds it (a parsed number, a long or a double).
    private static double NumberOf(JsonValue value) => double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string Text(JsonNode? node) => node?.ToJsonString() ?? "null";

    private static JsonObject Marker(string name, string value) => new() { [name] = value };
}
