using Ataraxia.Cbor;

namespace Ataraxia.Internal;

/// <summary>The messages of the services protocol (WIRE.md §13), with their keys in the order JavaScript writes them.</summary>
internal static class ServiceMessages
{
    public const string Prefix = "at:service:";
    public const string ListRequest = "at:service:list-request";
    public const string ListReply = "at:service:list-reply";
    public const string Available = "at:service:available";
    public const string Unavailable = "at:service:unavailable";
    public const string InvokeRequest = "at:service:invoke-request";
    public const string InvokeReply = "at:service:invoke-reply";
    public const string EventSubscribe = "at:service:event-subscribe";
    public const string EventUnsubscribe = "at:service:event-unsubscribe";
    public const string EventEmit = "at:service:event-emit";

    /// <summary>The key a .NET provider adds to an error reply with the exception's type; JavaScript callers ignore it.</summary>
    public const string ErrorTypeKey = "errorType";

    public static CborMap ListRequestPayload(long lastVersion) => new() { ["lastVersion"] = lastVersion };

    public static CborMap ListReplyPayload(long version, IEnumerable<ServiceDefinition> services) =>
        new() { ["version"] = version, ["services"] = new CborArray(services.Select(s => (CborValue)s.ToCbor())) };

    public static CborMap AvailablePayload(long version, ServiceDefinition definition) =>
        new() { ["version"] = version, ["def"] = definition.ToCbor() };

    public static CborMap UnavailablePayload(long version, string service) =>
        new() { ["version"] = version, ["service"] = service };

    public static CborMap InvokeRequestPayload(long id, string service, string method, CborArray arguments) =>
        new() { ["id"] = id, ["service"] = service, ["method"] = method, ["arguments"] = arguments };

    public static CborMap InvokeResultPayload(long id, CborValue result) => new() { ["id"] = id, ["result"] = result };

    public static CborMap InvokeErrorPayload(long id, string error, string? errorType)
    {
        var map = new CborMap { ["id"] = id, ["error"] = error };
        if (errorType is not null)
        {
            map[ErrorTypeKey] = errorType;
        }

        return map;
    }

    public static CborMap EventPayload(string service, string eventName) => new() { ["service"] = service, ["event"] = eventName };

    public static CborMap EventEmitPayload(string service, string eventName, CborArray arguments) =>
        new() { ["service"] = service, ["event"] = eventName, ["arguments"] = arguments };

    /// <summary>Reads a non-negative integer that JavaScript sent as a number (integers, or integral floats).</summary>
    public static long ReadVersion(CborMap map, string key)
    {
        CborValue value = map[key];
        long result = value.AsInt64();
        return result >= 0 ? result : throw new CborException($"`{key}` must not be negative.");
    }

    public static string ReadText(CborMap map, string key) =>
        map.TryGetValue(key, out CborValue? value) ? value.AsString() : throw new CborException($"`{key}` is missing.");

    public static CborArray ReadArguments(CborMap map) =>
        map.GetValueOrDefault("arguments") switch
        {
            CborArray array => array,
            null or { IsNullOrUndefined: true } => [],
            _ => throw new CborException("`arguments` must be an array."),
        };
}
