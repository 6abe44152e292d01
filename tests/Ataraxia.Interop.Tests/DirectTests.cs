using System.Text.Json.Nodes;
using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// A C# <see cref="Network"/> and a real JavaScript Ataraxia 0.12.2 network (js/node.js) connected directly, over
/// plain TCP with the stream framing of WIRE.md §4.1 or over a WebSocket (§4.4): negotiation, authentication,
/// topology and DATA both ways; and a wrong secret on either side.
/// </summary>
[Collection(JsNodeTests.Name)]
[Trait("Category", "Integration")]
public sealed class DirectTests(ITestOutputHelper output) : InteropTest(output)
{
    private const string FromDotNet = "interop:from-dotnet";
    private const string FromJs = "interop:from-js";

    // What the JavaScript node is told to send, in node.js's JSON form, and the value C# must decode from it.
    private const string JsPayloadJson = """
        {
          "nested": { "a": 1, "b": [true, false, null], "c": { "$bytes": "0102" } },
          "list": [1, "x", { "$bytes": "" }, 2.25, { "k": "v" }],
          "bytes": { "$bytes": "cafebabe" },
          "text": "héllo ✓",
          "int": -42,
          "big": 4294967296,
          "float": 1.5,
          "double": 3.141592653589793,
          "null": null,
          "undefined": { "$undefined": true },
          "10": "ten"
        }
        """;

    /// <summary>Scenario 1: C# as server and as client, anonymous and shared secret; over TCP, and over a WebSocket with C# as client.</summary>
    [JsTheory]
    [InlineData("tcp", true, false)]
    [InlineData("tcp", true, true)]
    [InlineData("tcp", false, false)]
    [InlineData("tcp", false, true)]
    [InlineData("ws", false, false)]
    [InlineData("ws", false, true)]
    public async Task Direct_NegotiatesAndExchangesPayloads(string transport, bool dotNetListens, bool sharedSecret)
    {
        string? secret = sharedSecret ? Secret : null;
        DotNetNode dotNet = await StartDotNetAsync("dotnet", secret);
        JsNode js = await StartJsAsync("js", secret);

        ConnectionResult connection;
        if (dotNetListens)
        {
            await js.ConnectAsync(dotNet.Plain.Port);
            connection = await dotNet.WaitForConnectionAsync();
            Assert.True(connection.Error is null, $"Negotiation failed: {connection.Error}\n{Transcripts()}");
        }
        else if (transport == "tcp")
        {
            connection = await dotNet.ConnectAsync(await js.ListenAsync());
        }
        else
        {
            connection = await dotNet.ConnectWebSocketAsync(await js.ListenWebSocketAsync());
        }

        Assert.Equal(js.Id, connection.RemoteId);
        Assert.Equal(dotNetListens ? PeerRole.Server : PeerRole.Client, connection.Session.Role);
        Assert.Equal(sharedSecret ? "shared-secret" : "anonymous", connection.Session.AuthenticationMethod);
        JsonObject peer = await js.WaitForEventAsync(e => JsNode.Is(e, "peer-connected"));
        Assert.Equal(transport, (string?)peer["transport"]);
        Assert.Equal(dotNet.IdHex, (string?)peer["id"]);

        await ExchangePayloadsAsync(dotNet, js);

        // Every peer message of the connection went over the transport under test.
        Assert.All(js.Events.Where(e => JsNode.Is(e, "trace")), e => Assert.Equal(transport, (string?)e["transport"]));
        Assert.DoesNotContain(js.Events, e => JsNode.Is(e, "ws-text-ignored") || JsNode.Is(e, "ws-unknown-ignored"));

        // C# leaves: BYE first on a stream, a plain close on a WebSocket (WIRE.md §8.3); JavaScript lets go either way.
        await dotNet.Network.LeaveAsync().DefaultTimeout();
        await js.WaitForEventAsync(e => JsNode.Is(e, "unavailable") && (string?)e["id"] == dotNet.IdHex);
        await js.WaitForEventAsync(e => JsNode.Is(e, "socket-closed"));
        Assert.Equal(transport == "tcp", js.Events.Any(e => IsTrace(e, "in", "Bye")));
        AssertHealthy();
    }

    /// <summary>Scenario 2: a wrong secret on either side leaves no session, a clear error in C#, and both sides running.</summary>
    [JsTheory]
    [InlineData("tcp", true)]
    [InlineData("tcp", false)]
    [InlineData("ws", false)]
    public async Task WrongSecret_NoSession_BothSidesSurvive(string transport, bool dotNetListens)
    {
        JsNode js = await StartJsAsync(dotNetListens ? "js-client-wrong" : "js-server-wrong", "not-the-secret");
        DotNetNode dotNet = await StartDotNetAsync("dotnet", Secret);
        ConnectionResult connection;
        if (dotNetListens)
        {
            await js.ConnectAsync(dotNet.Plain.Port);
            connection = await dotNet.WaitForConnectionAsync();
        }
        else if (transport == "tcp")
        {
            connection = await dotNet.Plain.ConnectAsync(await js.ListenAsync()).DefaultTimeout();
        }
        else
        {
            connection = await dotNet.WebSocket.ConnectAsync(await js.ListenWebSocketAsync()).DefaultTimeout();
        }

        PeerSessionClosedException failure = Assert.IsType<PeerSessionClosedException>(connection.Error);
        Assert.True(failure.Reason == PeerDisconnectReason.AuthenticationFailed, $"Expected AuthenticationFailed, got {failure.Reason}: {failure}\n{Transcripts()}");
        await connection.Session.Completion.DefaultTimeout();

        // The JavaScript side let go of the socket as well.
        await js.WaitForEventAsync(e => JsNode.Is(e, "socket-closed") && (string?)e["transport"] == transport);

        Assert.Empty(dotNet.Network.Nodes);
        Assert.False(dotNet.Network.TryGetNode(js.Id, out _));
        Assert.DoesNotContain(dotNet.Timeline, t => t.Contains("NodeAvailable", StringComparison.Ordinal));
        Assert.Empty(await js.NodesAsync());
        Assert.DoesNotContain(js.Events, e => JsNode.Is(e, "available") || JsNode.Is(e, "peer-connected"));

        if (dotNetListens)
        {
            // The listener is still fine: a node with the right secret gets in.
            JsNode good = await StartJsAsync("js-client-right", Secret);
            await good.ConnectAsync(dotNet.Plain.Port);
            await dotNet.WaitForNodeAsync(good.Id);
            await good.WaitForAvailableAsync(dotNet.Id);
        }
        else
        {
            // The JavaScript listener is still fine: a C# node with its secret gets in.
            DotNetNode good = await StartDotNetAsync("dotnet-right", "not-the-secret");
            _ = transport == "tcp" ? await good.ConnectAsync(js.TcpPort) : await good.ConnectWebSocketAsync(js.WebSocketPort);
            await js.WaitForAvailableAsync(good.Id);
        }

        Assert.True(dotNet.Network.IsJoined);
        AssertHealthy();
    }

    /// <summary>DATA both ways over a direct link, then the topology exchange JavaScript must have seen.</summary>
    internal static async Task ExchangePayloadsAsync(DotNetNode dotNet, JsNode js)
    {
        Node jsNode = await dotNet.WaitForNodeAsync(js.Id);
        await js.WaitForAvailableAsync(dotNet.Id);

        // C# → JavaScript: the JavaScript application sees exactly the value we sent.
        CborMap sent = DotNetPayload();
        await jsNode.SendAsync(FromDotNet, sent).DefaultTimeout();
        JsonObject received = await js.WaitForMessageAsync(FromDotNet);
        Assert.Equal(dotNet.IdHex, (string?)received["from"]);
        JsonNode? expectedJson = CborJson.ToJson(sent);
        Assert.True(
            CborJson.JsonDifference(expectedJson, received["data"]) is null,
            $"JavaScript received a different value: {CborJson.JsonDifference(expectedJson, received["data"])}\nexpected: {expectedJson?.ToJsonString()}\nactual:   {received["data"]?.ToJsonString()}");

        // JavaScript → C#: we decode the value the JavaScript application sent, and its bytes are what our encoder
        // writes for the same value (same key order, integer widths and float precision).
        CborMap expected = ExpectedJsPayload();
        await js.SendAsync(dotNet.Id, FromJs, JsonNode.Parse(JsPayloadJson));
        Message message = await dotNet.WaitForMessageAsync(FromJs);
        Assert.Equal(js.Id, message.Source.Id);
        Assert.True(CborJson.CborDifference(expected, message.Data) is null, $"C# decoded a different value: {CborJson.CborDifference(expected, message.Data)}");
        Assert.Equal(Convert.ToHexStringLower(expected.Encode()), Convert.ToHexStringLower(message.RawData.Span));

        await AssertTopologyExchangedAsync(dotNet, js);
    }

    private static CborMap DotNetPayload() => new()
    {
        ["map"] = new CborMap { ["inner"] = "value", ["count"] = 3, ["7"] = true },
        ["list"] = new CborArray([1, "two", new byte[] { 0x0a, 0x0b }, CborValue.Null, new CborMap { ["deep"] = new CborArray([]) }]),
        ["bytes"] = new byte[] { 0x00, 0x01, 0xfe, 0xff },
        ["text"] = "grüße, 世界",
        ["int"] = -123456789,
        ["big"] = 1L << 40,
        ["float"] = 1.5,
        ["double"] = 0.1,
        ["null"] = CborValue.Null,
        ["undefined"] = CborValue.Undefined,
        ["bool"] = false,
    };

    private static CborMap ExpectedJsPayload() => new()
    {
        ["nested"] = new CborMap { ["a"] = 1, ["b"] = new CborArray([true, false, CborValue.Null]), ["c"] = new byte[] { 0x01, 0x02 } },
        ["list"] = new CborArray([1, "x", Array.Empty<byte>(), 2.25, new CborMap { ["k"] = "v" }]),
        ["bytes"] = new byte[] { 0xca, 0xfe, 0xba, 0xbe },
        ["text"] = "héllo ✓",
        ["int"] = -42,
        ["big"] = 4294967296L,
        ["float"] = 1.5,
        ["double"] = 3.141592653589793,
        ["null"] = CborValue.Null,
        ["undefined"] = CborValue.Undefined,
        ["10"] = "ten",
    };

    // WIRE.md §9.6: JavaScript learnt our routing details (asked for them and got them), with the JavaScript node
    // as our neighbour and a latency in whole milliseconds (§8.2: a fraction would corrupt its routing tables).
    private static async Task AssertTopologyExchangedAsync(DotNetNode dotNet, JsNode js)
    {
        JsonObject summary = await js.WaitForEventAsync(e => IsTrace(e, "in", "NodeSummary"));
        Assert.True((long?)summary["ownVersion"] >= 1, $"NODE_SUMMARY from C# with ownVersion {summary["ownVersion"]}\n{js.Transcript()}");

        JsonObject details = await js.WaitForEventAsync(e => IsTrace(e, "in", "NodeDetails")
            && e["nodes"]!.AsArray().Any(n => (string?)n!["id"] == dotNet.IdHex));
        JsonNode self = details["nodes"]!.AsArray().First(n => (string?)n!["id"] == dotNet.IdHex)!;
        Assert.True((long?)self["version"] >= 1, $"NODE_DETAILS from C# about itself: {self.ToJsonString()}");
        JsonArray? edge = self["neighbors"]!.AsArray().Select(n => n!.AsArray()).FirstOrDefault(n => (string?)n[0] == js.IdHex);
        Assert.True(edge is not null, $"C# did not list the JavaScript node as its neighbour: {self.ToJsonString()}");
        Assert.True(edge[1]!.AsValue().TryGetValue(out long latency) && latency >= 0, $"Latency is not a whole number of milliseconds: {edge.ToJsonString()}");
    }
}
