using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ataraxia.Cbor;

namespace Ataraxia.Cli;

/// <summary>
/// JSON on the command line and in the output, CBOR on the mesh: objects are maps, arrays arrays, integral numbers within
/// ±(2^53 − 1) integers and other numbers floats, strings text, <c>true</c>/<c>false</c> booleans and <c>null</c> null.
/// Going back, byte strings become base64 text, dates ISO 8601 text, undefined <c>null</c>, and non-finite numbers the
/// text <c>NaN</c>, <c>Infinity</c> or <c>-Infinity</c>.
/// </summary>
internal static class CborJson
{
    private const long MaxSafeInteger = 9_007_199_254_740_991;

    /// <summary>Compact, one line, without escaping what needs no escaping in JSON.</summary>
    public static JsonSerializerOptions LineOptions { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };

    /// <summary>Parses JSON text given on the command line; a mistake is a usage error naming <paramref name="what"/>.</summary>
    public static CborValue Parse(string text, string what)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            return FromJson(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw CommandException.Usage($"{what} is not valid JSON: {OneLine(ex.Message)}");
        }
    }

    public static CborValue FromJson(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var map = new CborMap();
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    map[property.Name] = FromJson(property.Value);
                }

                return map;
            case JsonValueKind.Array:
                return new CborArray(element.EnumerateArray().Select(FromJson).ToList());
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                if (element.TryGetInt64(out long integer) && integer is >= -MaxSafeInteger and <= MaxSafeInteger)
                {
                    return integer;
                }

                return element.GetDouble();
            case JsonValueKind.True:
                return CborValue.True;
            case JsonValueKind.False:
                return CborValue.False;
            default:
                return CborValue.Null;
        }
    }

    public static JsonNode? ToJson(CborValue value)
    {
        switch (value)
        {
            case CborInteger i:
                return JsonValue.Create(i.Value);
            case CborFloat f when double.IsFinite(f.Value):
                return JsonValue.Create(f.Value);
            case CborFloat f:
                return JsonValue.Create(double.IsNaN(f.Value) ? "NaN" : f.Value > 0 ? "Infinity" : "-Infinity");
            case CborText t:
                return JsonValue.Create(t.Value);
            case CborBytes b:
                return JsonValue.Create(Convert.ToBase64String(b.Value.Span));
            case CborDate d:
                return JsonValue.Create(d.Value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            case CborTagged tagged:
                return ToJson(tagged.Content);
            case CborSimple simple:
                return JsonValue.Create((int)simple.Value);
            case CborArray array:
                return new JsonArray([.. array.Select(ToJson)]);
            case CborMap map:
                var result = new JsonObject();
                foreach (KeyValuePair<string, CborValue> entry in map)
                {
                    result[entry.Key] = ToJson(entry.Value);
                }

                return result;
        }

        return value.Kind == CborValueKind.Boolean ? JsonValue.Create(value.AsBoolean()) : null;
    }

    /// <summary>Formats a CBOR value as one line of JSON.</summary>
    public static string Format(CborValue value) => ToJson(value)?.ToJsonString(LineOptions) ?? "null";

    /// <summary>
    /// Whether <paramref name="value"/> contains <paramref name="pattern"/>: every key of a pattern object is in the value
    /// and matches in turn (the value may have more keys), arrays match element by element with the same length, and
    /// other values are equal (numbers by value, so <c>1</c> matches <c>1.0</c>; <c>null</c> also matches undefined).
    /// </summary>
    public static bool Matches(CborValue pattern, CborValue value)
    {
        switch (pattern)
        {
            case CborMap patternMap:
                if (value is not CborMap valueMap)
                {
                    return false;
                }

                foreach (KeyValuePair<string, CborValue> entry in patternMap)
                {
                    if (!valueMap.TryGetValue(entry.Key, out CborValue? inner) || !Matches(entry.Value, inner))
                    {
                        return false;
                    }
                }

                return true;
            case CborArray patternArray:
                if (value is not CborArray valueArray || valueArray.Count != patternArray.Count)
                {
                    return false;
                }

                for (int i = 0; i < patternArray.Count; i++)
                {
                    if (!Matches(patternArray[i], valueArray[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return pattern.Kind == CborValueKind.Null ? value.IsNullOrUndefined : pattern.Equals(value);
        }
    }

    public static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
