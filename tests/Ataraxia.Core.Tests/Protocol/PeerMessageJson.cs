using System.Globalization;
using System.Text;
using System.Text.Json;
using Ataraxia.Protocol;

namespace Ataraxia.Tests.Protocol;

/// <summary>
/// Builds peer messages from the JSON form of the test vectors (<c>{type, fields}</c> with <c>$bytes</c>, <c>$set</c>
/// and <c>$undefined</c> markers) and compares messages field by field.
/// </summary>
internal static class PeerMessageJson
{
    /// <summary>Builds the message a vector's <c>type</c> and <c>fields</c> describe.</summary>
    /// <param name="type">The JS type name, which is also the <see cref="PeerMessageType"/> member name.</param>
    /// <param name="fields">The fields object, or <c>{"$undefined": true}</c> for messages without fields.</param>
    /// <returns>The message.</returns>
    public static PeerMessage Build(string type, JsonElement fields)
    {
        PeerMessageType messageType = Enum.Parse<PeerMessageType>(type);
        return messageType switch
        {
            PeerMessageType.Ping => PeerSignal.Ping,
            PeerMessageType.Pong => PeerSignal.Pong,
            PeerMessageType.Ok => PeerSignal.Ok,
            PeerMessageType.Reject => PeerSignal.Reject,
            PeerMessageType.Begin => PeerSignal.Begin,
            PeerMessageType.Bye => PeerSignal.Bye,
            PeerMessageType.Hello or PeerMessageType.Select => new PeerIdentify(
                messageType,
                Id(fields.GetProperty("id")),
                [.. fields.GetProperty("capabilities").GetProperty("$set").EnumerateArray().Select(c => c.GetString()!)]),
            PeerMessageType.Auth => new PeerAuth(fields.GetProperty("method").GetString()!, Bytes(fields.GetProperty("data"))),
            PeerMessageType.AuthData => new PeerAuthData(Bytes(fields.GetProperty("data"))),
            PeerMessageType.DataAck or PeerMessageType.DataReject => new PeerDataResult(messageType, fields.GetProperty("id").GetUInt64()),
            PeerMessageType.Data => new PeerData(
                Id(fields.GetProperty("target")),
                fields.GetProperty("type").GetString()!,
                Bytes(fields.GetProperty("data")),
                [.. fields.GetProperty("path").EnumerateArray().Select(p => new PeerPathEntry(Id(p.GetProperty("node")), p.GetProperty("id").GetUInt64()))]),
            PeerMessageType.NodeSummary => new PeerNodeSummary(
                fields.GetProperty("ownVersion").GetUInt64(),
                [.. fields.GetProperty("nodes").EnumerateArray().Select(n => new NodeVersion(Id(n.GetProperty("id")), n.GetProperty("version").GetUInt64()))]),
            PeerMessageType.NodeRequest => new PeerNodeRequest([.. fields.GetProperty("nodes").EnumerateArray().Select(Id)]),
            PeerMessageType.NodeDetails => new PeerNodeDetails(
                [.. fields.GetProperty("nodes").EnumerateArray().Select(n => new NodeDetails(
                    Id(n.GetProperty("id")),
                    n.GetProperty("version").GetUInt64(),
                    [.. n.GetProperty("neighbors").EnumerateArray().Select(x => new NodeNeighbour(Id(x.GetProperty("id")), x.GetProperty("latency").GetUInt64()))]))]),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a peer message type."),
        };
    }

    /// <summary>Builds the message of a <c>{type, fields}</c> object such as a vector's <c>decoded</c>.</summary>
    /// <param name="typeAndFields">The object.</param>
    /// <returns>The message.</returns>
    public static PeerMessage Build(JsonElement typeAndFields) =>
        Build(typeAndFields.GetProperty("type").GetString()!, typeAndFields.GetProperty("fields"));

    /// <summary>Reads a <c>{"$bytes": hex}</c> marker.</summary>
    /// <param name="value">The marker.</param>
    /// <returns>The bytes.</returns>
    public static byte[] Bytes(JsonElement value) => Convert.FromHexString(value.GetProperty("$bytes").GetString()!);

    /// <summary>Asserts that two messages have the same type and the same field values.</summary>
    /// <param name="expected">The expected message.</param>
    /// <param name="actual">The actual message.</param>
    public static void AssertEqual(PeerMessage expected, PeerMessage actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.IsType(expected.GetType(), actual);
        Assert.Equal(Describe(expected), Describe(actual));
        if (expected is PeerSignal)
        {
            // Field-less messages decode to the shared instances.
            Assert.Same(expected, actual);
        }
    }

    /// <summary>Describes every field of a message, so that equal descriptions mean equal messages.</summary>
    /// <param name="message">The message.</param>
    /// <returns>A one-line description.</returns>
    public static string Describe(PeerMessage message)
    {
        var text = new StringBuilder(message.Type.ToString());
        switch (message)
        {
            case PeerSignal:
                break;
            case PeerIdentify identify:
                text.Append(CultureInfo.InvariantCulture, $" id={Hex(identify.Id)} capabilities=[{string.Join(", ", identify.Capabilities.Select(Quote))}]");
                break;
            case PeerAuth auth:
                text.Append(CultureInfo.InvariantCulture, $" method={Quote(auth.Method)} data={Convert.ToHexStringLower(auth.Data.Span)}");
                break;
            case PeerAuthData authData:
                text.Append(CultureInfo.InvariantCulture, $" data={Convert.ToHexStringLower(authData.Data.Span)}");
                break;
            case PeerDataResult result:
                text.Append(CultureInfo.InvariantCulture, $" id={result.Id}");
                break;
            case PeerData data:
                text.Append(CultureInfo.InvariantCulture, $" target={Hex(data.Target)} type={Quote(data.DataType)} data={Convert.ToHexStringLower(data.Data.Span)} path=[");
                text.AppendJoin(", ", data.Path.Select(p => string.Create(CultureInfo.InvariantCulture, $"{Hex(p.Node)}:{p.Id}")));
                text.Append(']');
                break;
            case PeerNodeSummary summary:
                text.Append(CultureInfo.InvariantCulture, $" ownVersion={summary.OwnVersion} nodes=[");
                text.AppendJoin(", ", summary.Nodes.Select(n => string.Create(CultureInfo.InvariantCulture, $"{Hex(n.Id)}:{n.Version}")));
                text.Append(']');
                break;
            case PeerNodeRequest request:
                text.Append(" nodes=[");
                text.AppendJoin(", ", request.Nodes.Select(Hex));
                text.Append(']');
                break;
            case PeerNodeDetails details:
                text.Append(" nodes=[");
                text.AppendJoin(", ", details.Nodes.Select(n => string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Hex(n.Id)} v{n.Version} [{string.Join(", ", n.Neighbours.Select(x => string.Create(CultureInfo.InvariantCulture, $"{Hex(x.Id)}:{x.Latency}ms")))}]")));
                text.Append(']');
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(message), message.GetType(), "Unknown message class.");
        }

        return text.ToString();
    }

    private static NodeId Id(JsonElement value) => new(Bytes(value));

    // The length is part of the id (an empty id differs from a missing one), so it is spelled out.
    private static string Hex(NodeId id) => string.Create(CultureInfo.InvariantCulture, $"{id.Length}:{Convert.ToHexStringLower(id.ToByteArray())}");

    // JSON-style quoting keeps odd strings (empty, control characters, non-ASCII) visible in failure messages.
    private static string Quote(string value) => JsonSerializer.Serialize(value);
}
