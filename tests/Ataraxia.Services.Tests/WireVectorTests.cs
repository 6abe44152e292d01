using System.Text.Json;
using Ataraxia.Cbor;
using Ataraxia.Internal;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>The services messages against the vectors the JavaScript library produced (WIRE.md §13).</summary>
public sealed class WireVectorTests
{
    public static TheoryData<string> ServiceVectors => Vectors.Names("services");

    [Fact]
    public void Every_services_message_type_has_a_vector()
    {
        string[] types = [.. Vectors.InCategory("services").Select(v => v.GetProperty("data_type").GetString()!).Distinct()];
        Assert.Equal(9, types.Length);
        Assert.All(types, t => Assert.StartsWith(ServiceMessages.Prefix, t, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ServiceVectors))]
    public void Vector_decodes_to_its_value(string name)
    {
        JsonElement vector = Vectors.Get(name);
        CborValue decoded = CborValue.Decode(Vectors.Hex(vector.GetProperty("hex").GetString()!));
        Assert.Equal(ToCbor(vector.GetProperty("value")), decoded);
    }

    [Theory]
    [MemberData(nameof(ServiceVectors))]
    public void Our_encoder_writes_the_vector_byte_for_byte(string name)
    {
        JsonElement vector = Vectors.Get(name);
        byte[] expected = Vectors.Hex(vector.GetProperty("hex").GetString()!);
        CborMap value = CborValue.Decode(expected).AsMap();
        CborMap ours = vector.GetProperty("data_type").GetString() switch
        {
            ServiceMessages.ListRequest => ServiceMessages.ListRequestPayload(value["lastVersion"].AsInt64()),
            ServiceMessages.ListReply => ServiceMessages.ListReplyPayload(value["version"].AsInt64(), value["services"].AsArray().Select(ServiceDefinition.FromCbor)),
            ServiceMessages.Available => ServiceMessages.AvailablePayload(value["version"].AsInt64(), ServiceDefinition.FromCbor(value["def"])),
            ServiceMessages.Unavailable => ServiceMessages.UnavailablePayload(value["version"].AsInt64(), value["service"].AsString()),
            ServiceMessages.InvokeRequest => ServiceMessages.InvokeRequestPayload(
                value["id"].AsInt64(), value["service"].AsString(), value["method"].AsString(), value["arguments"].AsArray()),
            ServiceMessages.InvokeReply when value.ContainsKey("error") => ServiceMessages.InvokeErrorPayload(value["id"].AsInt64(), value["error"].AsString(), errorType: null),
            ServiceMessages.InvokeReply => ServiceMessages.InvokeResultPayload(value["id"].AsInt64(), value["result"]),
            ServiceMessages.EventSubscribe or ServiceMessages.EventUnsubscribe => ServiceMessages.EventPayload(value["service"].AsString(), value["event"].AsString()),
            ServiceMessages.EventEmit => ServiceMessages.EventEmitPayload(value["service"].AsString(), value["event"].AsString(), value["arguments"].AsArray()),
            var other => throw new InvalidOperationException($"No encoder for {other}."),
        };

        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(ours.Encode()));
    }

    [Fact]
    public void A_dotnet_contract_describes_itself_exactly_as_the_javascript_echo_service()
    {
        // The JS service of the vectors: echo(message: string): string, and an event onEcho(message: string).
        ServiceDefinition definition = ServiceContract.For(typeof(IJsEcho)).CreateDefinition("echo");

        byte[] listReply = ServiceMessages.ListReplyPayload(1, [definition]).Encode();
        byte[] available = ServiceMessages.AvailablePayload(1, definition).Encode();

        Assert.Equal(Vectors.Get("services/list-reply").GetProperty("hex").GetString(), Convert.ToHexString(listReply).ToLowerInvariant());
        Assert.Equal(Vectors.Get("services/available").GetProperty("hex").GetString(), Convert.ToHexString(available).ToLowerInvariant());
    }

    [Fact]
    public void The_javascript_definition_reads_with_every_field()
    {
        CborMap reply = CborValue.Decode(Vectors.Hex(Vectors.Get("services/list-reply").GetProperty("hex").GetString()!)).AsMap();
        ServiceDefinition definition = ServiceDefinition.FromCbor(reply["services"].AsArray()[0]);

        Assert.Equal("echo", definition.Id);
        ServiceMethodDefinition echo = Assert.Single(definition.Methods);
        Assert.Equal(("echo", null, "string"), (echo.Name, echo.Description, echo.ReturnType));
        Assert.Equal(new ServiceParameterDefinition("message", null, false, false, "string"), Assert.Single(echo.Parameters));
        ServiceEventDefinition onEcho = Assert.Single(definition.Events);
        Assert.Equal("onEcho", onEcho.Name);
        Assert.Equal("message", Assert.Single(onEcho.Parameters).Name);
        Assert.Same(echo, definition.FindMethod("echo"));
        Assert.Null(definition.FindMethod("nope"));
    }

    /// <summary>Converts a vector value (plain JSON plus the <c>$undefined</c> marker) to CBOR.</summary>
    internal static CborValue ToCbor(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => CborValue.Null,
        JsonValueKind.True => CborValue.True,
        JsonValueKind.False => CborValue.False,
        JsonValueKind.Number => element.GetInt64(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Array => new CborArray(element.EnumerateArray().Select(ToCbor)),
        JsonValueKind.Object when element.TryGetProperty("$undefined", out _) => CborValue.Undefined,
        JsonValueKind.Object => ToMap(element),
        _ => throw new NotSupportedException(element.ValueKind.ToString()),
    };

    private static CborMap ToMap(JsonElement element)
    {
        var map = new CborMap();
        foreach (JsonProperty property in element.EnumerateObject())
        {
            map[property.Name] = ToCbor(property.Value);
        }

        return map;
    }

    public delegate void MessageHandler(string message);

    /// <summary>The .NET twin of the JavaScript echo service the vectors were recorded with.</summary>
    public interface IJsEcho
    {
        event MessageHandler? OnEcho;

        Task<string> EchoAsync(string message);
    }
}
