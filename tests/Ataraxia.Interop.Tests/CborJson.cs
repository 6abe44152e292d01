using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ataraxia.Cbor;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Maps payload values to and from the JSON that <c>js/node.js</c> speaks: byte strings as
/// <c>{"$bytes":"hex"}</c>, undefined as <c>{"$undefined":true}</c>, dates as <c>{"$date":"iso"}</c>,
/// non-finite numbers as <c>{"$number":"NaN"}</c>; everything else as plain JSON.
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
                    JsonValueKind.Number when value.TryGetValue(out long integer) => new CborInteger(integer),
                    JsonValueKind.Number => new CborFloat(value.GetValue<double>()),
                    JsonValueKind kind => throw new NotSupportedException($"No CBOR form for JSON {kind}."),
                };
            default:
                throw new NotSupportedException($"No CBOR form for {node.GetType().Name}.");
        }
    }

    /// <summary>Compares two JSON values structurally (numbers by value), after a round trip through text.</summary>
    public static bool JsonEquals(JsonNode? expected, JsonNode? actual) =>
        JsonNode.DeepEquals(Reparse(expected), Reparse(actual));

    private static JsonNode? Reparse(JsonNode? node) => node is null ? null : JsonNode.Parse(node.ToJsonString());

    private static JsonObject Marker(string name, string value) => new() { [name] = value };
}
