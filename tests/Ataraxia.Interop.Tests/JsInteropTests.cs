using System.Diagnostics;
using System.Text.Json.Nodes;
using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// A C# <see cref="Network"/> and a real JavaScript Ataraxia 0.12.2 network (js/node.js) meet over plain TCP
/// with the stream framing of WIRE.md §4.1: negotiation, authentication, topology, DATA both ways, liveness.
/// </summary>
[Collection(JsNodeTests.Name)]
[Trait("Category", "Integration")]
public sealed class JsInteropTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Secret = "s3cret";
    private const string FromDotNet = "interop:from-dotnet";
    private const string FromJs = "interop:from-js";

    // JavaScript sends a PING every 30 s and its failure detector expects ours at the same cadence (WIRE.md §8.1).
    private static readonly TimeSpan LivenessPeriod = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan LivenessDeadline = TimeSpan.FromSeconds(60);

    private readonly List<DotNetNode> _dotNetNodes = [];
    private readonly List<JsNode> _jsNodes = [];

    [JsFact]
    public async Task DotNetListens_JsConnects_SharedSecret_PayloadsRoundTrip()
    {
        DotNetNode dotNet = await StartDotNetAsync(PlainStreamTransport.Listening(), Secret);
        JsNode js = await StartJsAsync("js-client", Secret);

        await js.RequestAsync(new JsonObject { ["cmd"] = "connect", ["port"] = dotNet.Transport.Port }, "connected");

        PlainConnectionResult connection = await dotNet.WaitForConnectionAsync();
        Assert.True(connection.Error is null, $"Negotiation failed: {connection.Error}\n{Transcripts()}");
        Assert.Equal(js.Id, connection.RemoteId);
        Assert.Equal("shared-secret", connection.Session.AuthenticationMethod);

        await ExchangePayloadsAsync(dotNet, js);
        AssertHealthy(dotNet, js);
    }

    [JsFact]
    public async Task JsListens_DotNetConnects_Anonymous_PayloadsRoundTrip()
    {
        JsNode js = await StartJsAsync("js-server", secret: null);
        int port = (int)(await js.RequestAsync(new JsonObject { ["cmd"] = "listen" }, "listening"))["port"]!;

        DotNetNode dotNet = await StartDotNetAsync(PlainStreamTransport.ConnectingTo(port), secret: null);

        PlainConnectionResult connection = await dotNet.WaitForConnectionAsync();
        Assert.True(connection.Error is null, $"Negotiation failed: {connection.Error}\n{Transcripts()}");
        Assert.Equal(js.Id, connection.RemoteId);
        Assert.Equal("anonymous", connection.Session.AuthenticationMethod);

        await ExchangePayloadsAsync(dotNet, js);
        AssertHealthy(dotNet, js);
    }

    [JsTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WrongSecret_NoSession_BothSidesSurvive(bool dotNetListens)
    {
        JsNode js = await StartJsAsync(dotNetListens ? "js-client-wrong" : "js-server-wrong", "not-the-secret");
        DotNetNode dotNet;
        if (dotNetListens)
        {
            dotNet = await StartDotNetAsync(PlainStreamTransport.Listening(), Secret);
            await js.RequestAsync(new JsonObject { ["cmd"] = "connect", ["port"] = dotNet.Transport.Port }, "connected");
        }
        else
        {
            int port = (int)(await js.RequestAsync(new JsonObject { ["cmd"] = "listen" }, "listening"))["port"]!;
            dotNet = await StartDotNetAsync(PlainStreamTransport.ConnectingTo(port), Secret);
        }

        PlainConnectionResult connection = await dotNet.WaitForConnectionAsync();
        PeerSessionClosedException failure = Assert.IsType<PeerSessionClosedException>(connection.Error);
        Assert.True(failure.Reason == PeerDisconnectReason.AuthenticationFailed, $"Expected AuthenticationFailed, got {failure.Reason}: {failure}\n{Transcripts()}");
        await connection.Session.Completion.DefaultTimeout();

        // The JavaScript side let go of the socket as well.
        await js.WaitForEventAsync(e => JsNode.Is(e, "socket-closed"));

        Assert.Empty(dotNet.Network.Nodes);
        Assert.False(dotNet.Network.TryGetNode(js.Id, out _));
        Assert.DoesNotContain(dotNet.Timeline, t => t.Contains("NodeAvailable", StringComparison.Ordinal));
        JsonObject nodes = await js.RequestAsync(new JsonObject { ["cmd"] = "nodes" }, "nodes");
        Assert.Empty(nodes["ids"]!.AsArray());
        Assert.DoesNotContain(js.Events, e => JsNode.Is(e, "available") || JsNode.Is(e, "peer-connected"));

        if (dotNetListens)
        {
            // The listener is still fine: a node with the right secret gets in.
            JsNode good = await StartJsAsync("js-client-right", Secret);
            await good.RequestAsync(new JsonObject { ["cmd"] = "connect", ["port"] = dotNet.Transport.Port }, "connected");
            await dotNet.WaitForNodeAsync(good.Id);
            await good.WaitForEventAsync(e => JsNode.Is(e, "available") && (string?)e["id"] == dotNet.IdHex);
            good.AssertHealthy();
        }

        Assert.True(dotNet.Network.IsJoined);
        AssertHealthy(dotNet, js);
    }

    [JsFact]
    public async Task Liveness_LinkSurvivesPingCadence()
    {
        DotNetNode dotNet = await StartDotNetAsync(PlainStreamTransport.Listening(), secret: null);
        JsNode js = await StartJsAsync("js-liveness", secret: null);
        await js.RequestAsync(new JsonObject { ["cmd"] = "connect", ["port"] = dotNet.Transport.Port }, "connected");

        Node node = await dotNet.WaitForNodeAsync(js.Id);
        JsonObject connected = await js.WaitForEventAsync(e => JsNode.Is(e, "peer-connected"));
        await js.WaitForEventAsync(e => JsNode.Is(e, "available") && (string?)e["id"] == dotNet.IdHex);
        var up = Stopwatch.StartNew();

        await WaitUntilAsync(
            done: () => up.Elapsed >= LivenessPeriod,
            broken: () =>
            {
                if (!node.IsAvailable)
                {
                    return "the C# node lost the JavaScript node";
                }

                JsonObject? lost = js.Events.FirstOrDefault(e => JsNode.Is(e, "unavailable") || JsNode.Is(e, "peer-disconnected") || JsNode.Is(e, "socket-closed"));
                return lost is null ? null : $"the JavaScript node lost the C# node: {lost.ToJsonString()}";
            },
            LivenessDeadline);

        Assert.True(dotNet.Network.TryGetNode(js.Id, out Node? still) && still.IsAvailable, Transcripts());
        await ExchangePayloadsAsync(dotNet, js);

        // The cadence JavaScript saw: exactly one PING from us so far, about 30 s after activation, never early
        // (an early PING makes its accrual detector drop the link, WIRE.md §8.1); and its own PING answered.
        long activatedAt = (long)connected["atMs"]!;
        List<long> pingsFromDotNet = [.. js.Events.Where(e => IsTrace(e, "in", "Ping")).Select(e => (long)e["atMs"]! - activatedAt)];
        output.WriteLine($"PINGs from C# at {string.Join(", ", pingsFromDotNet)} ms after activation");
        Assert.True(pingsFromDotNet.Count == 1, $"Expected one PING from C# within {LivenessPeriod}, saw {pingsFromDotNet.Count}\n{Transcripts()}");
        Assert.InRange(pingsFromDotNet[0], 28_000, 40_000);
        Assert.Contains(js.Events, e => IsTrace(e, "out", "Ping"));
        Assert.Contains(js.Events, e => IsTrace(e, "in", "Pong"));
        AssertHealthy(dotNet, js);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        output.WriteLine(Transcripts(maxEvents: 400));
        foreach (DotNetNode node in _dotNetNodes)
        {
            await node.DisposeAsync();
        }

        foreach (JsNode node in _jsNodes)
        {
            await node.DisposeAsync();
        }
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

    private static bool IsTrace(JsonObject e, string direction, string message) =>
        JsNode.Is(e, "trace") && (string?)e["dir"] == direction && (string?)e["msg"] == message;

    private static async Task WaitUntilAsync(Func<bool> done, Func<string?> broken, TimeSpan deadline)
    {
        var elapsed = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (true)
        {
            if (broken() is { } why)
            {
                Assert.Fail($"After {elapsed.Elapsed.TotalSeconds:F1} s: {why}");
            }

            if (done())
            {
                return;
            }

            if (elapsed.Elapsed > deadline)
            {
                throw new TimeoutException($"Condition not met within {deadline}.");
            }

            await timer.WaitForNextTickAsync();
        }
    }

    private static async Task ExchangePayloadsAsync(DotNetNode dotNet, JsNode js)
    {
        Node jsNode = await dotNet.WaitForNodeAsync(js.Id);
        await js.WaitForEventAsync(e => JsNode.Is(e, "available") && (string?)e["id"] == dotNet.IdHex);

        // C# → JavaScript: the JavaScript application sees exactly the value we sent.
        CborMap sent = DotNetPayload();
        await jsNode.SendAsync(FromDotNet, sent).DefaultTimeout();
        JsonObject received = await js.WaitForEventAsync(e => JsNode.Is(e, "message") && (string?)e["type"] == FromDotNet);
        Assert.Equal(dotNet.IdHex, (string?)received["from"]);
        JsonNode? expectedJson = CborJson.ToJson(sent);
        Assert.True(
            CborJson.JsonEquals(expectedJson, received["data"]),
            $"JavaScript received a different value.\nexpected: {expectedJson?.ToJsonString()}\nactual:   {received["data"]?.ToJsonString()}");

        // JavaScript → C#: we decode the value the JavaScript application sent, and its bytes are what our encoder
        // writes for the same value (same key order, integer widths and float precision).
        CborMap expected = ExpectedJsPayload();
        await js.RequestAsync(new JsonObject { ["cmd"] = "send", ["to"] = dotNet.IdHex, ["type"] = FromJs, ["data"] = JsonNode.Parse(JsPayloadJson) }, "sent");
        Message message = await dotNet.WaitForMessageAsync(FromJs);
        Assert.Equal(js.Id, message.Source.Id);
        Assert.True(expected.Equals(message.Data), $"C# decoded a different value.\nexpected: {CborJson.ToJson(expected)?.ToJsonString()}\nactual:   {CborJson.ToJson(message.Data)?.ToJsonString()}");
        Assert.Equal(Convert.ToHexStringLower(expected.Encode()), Convert.ToHexStringLower(message.RawData.Span));

        await AssertTopologyExchangedAsync(dotNet, js);
    }

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

    private async Task<DotNetNode> StartDotNetAsync(PlainStreamTransport transport, string? secret)
    {
        var node = new DotNetNode(transport, secret);
        _dotNetNodes.Add(node);
        await node.JoinAsync();
        return node;
    }

    private async Task<JsNode> StartJsAsync(string name, string? secret)
    {
        JsNode node = await JsNode.StartAsync(name, secret);
        _jsNodes.Add(node);
        return node;
    }

    private static void AssertHealthy(DotNetNode dotNet, JsNode js)
    {
        js.AssertHealthy();
        dotNet.AssertNoErrorsLogged();
    }

    private string Transcripts(int maxEvents = 80) =>
        string.Join('\n', _dotNetNodes.Select(n => n.Transcript()).Concat(_jsNodes.Select(n => n.Transcript(maxEvents))));
}
