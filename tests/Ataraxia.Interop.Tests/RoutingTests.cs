using System.Text.Json.Nodes;
using Ataraxia.Cbor;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Scenario 3: messages routed through a node of the other language (WIRE.md §7.2), both ways, with payloads
/// of every kind of §7.3 (<see cref="PayloadCorpus"/>); what arrives must equal what was sent.
/// </summary>
[Collection(JsNodeTests.Name)]
[Trait("Category", "Integration")]
public sealed class RoutingTests(ITestOutputHelper output) : InteropTest(output)
{
    /// <summary>C# → JavaScript → C#: JavaScript forwards the DATA untouched; the C# receiver gets the exact bytes.</summary>
    [JsFact]
    public async Task DotNetThroughJs_EveryPayloadKindArrivesExactly()
    {
        JsNode router = await StartJsAsync("js-router");
        DotNetNode a = await StartDotNetAsync("a");
        DotNetNode b = await StartDotNetAsync("b");
        await a.ConnectAsync(await router.ListenAsync());
        await b.ConnectWebSocketAsync(await router.ListenWebSocketAsync());

        // a and b only know each other through the JavaScript node.
        Node bFromA = await a.WaitForNodeAsync(b.Id);
        Node aFromB = await b.WaitForNodeAsync(a.Id);

        foreach ((DotNetNode sender, Node target, DotNetNode receiver) in new[] { (a, bFromA, b), (b, aFromB, a) })
        {
            foreach ((string name, CborValue value) in PayloadCorpus.Items)
            {
                string type = $"route:{sender.Name}->{receiver.Name}:{name}";
                byte[] encoded = value.Encode();
                await target.SendAsync(type, value).DefaultTimeout();
                Message message = await receiver.WaitForMessageAsync(type);

                Assert.Equal(sender.Id, message.Source.Id);
                Assert.True(encoded.AsSpan().SequenceEqual(message.RawData.Span), $"{type}: the payload bytes changed on the way\nsent:     {Convert.ToHexStringLower(encoded)}\nreceived: {Convert.ToHexStringLower(message.RawData.Span)}");
                Assert.True(CborJson.CborDifference(Normalize(value), message.Data) is null, $"{type}: {CborJson.CborDifference(Normalize(value), message.Data)}");

                // The JavaScript node forwarded it (one DATA in, one out, same payload), and did not consume it.
                JsonObject forwardedIn = await router.WaitForEventAsync(e => IsTrace(e, "in", "Data") && (string?)e["dataType"] == type);
                JsonObject forwardedOut = await router.WaitForEventAsync(e => IsTrace(e, "out", "Data") && (string?)e["dataType"] == type);
                foreach (JsonObject trace in new[] { forwardedIn, forwardedOut })
                {
                    Assert.Equal(sender.IdHex, (string?)trace["source"]);
                    Assert.Equal(receiver.IdHex, (string?)trace["target"]);
                    Assert.Equal(Sha256(encoded), (string?)trace["dataSha256"]);
                }

                Assert.Equal(1L, (long?)forwardedIn["hops"]);
                Assert.Equal(2L, (long?)forwardedOut["hops"]);
            }
        }

        Assert.DoesNotContain(router.Events, e => JsNode.Is(e, "message"));
        Note($"{PayloadCorpus.Items.Count} payloads each way through the JavaScript node");
        AssertHealthy();
    }

    /// <summary>
    /// JavaScript → C# → JavaScript: C# forwards the DATA untouched and the JavaScript receiver decodes exactly what
    /// was sent; the same payloads sent to the C# node itself decode to the same values, encoded byte for byte as
    /// the C# encoder would.
    /// </summary>
    [JsFact]
    public async Task JsThroughDotNet_EveryPayloadKindArrivesExactly()
    {
        DotNetNode router = await StartDotNetAsync("dotnet-router");
        JsNode[] js = await Task.WhenAll(StartJsAsync("a"), StartJsAsync("b"));
        (JsNode a, JsNode b) = (js[0], js[1]);
        await a.ConnectAsync(router.Plain.Port);
        await b.ConnectAsync(router.Plain.Port);
        await a.WaitForAvailableAsync(b.Id);
        await b.WaitForAvailableAsync(a.Id);
        Assert.Contains(a.Events, e => IsTrace(e, "in", "NodeDetails"));

        foreach ((JsNode sender, JsNode receiver) in new[] { (a, b), (b, a) })
        {
            foreach ((string name, CborValue value) in PayloadCorpus.Items)
            {
                string type = $"route:{sender.Name}->{receiver.Name}:{name}";
                JsonNode? sent = CborJson.ToJson(value);
                await sender.SendAsync(receiver.Id, type, sent);
                JsonObject message = await receiver.WaitForMessageAsync(type);

                Assert.Equal(sender.IdHex, (string?)message["from"]);
                Assert.True(CborJson.JsonDifference(sent, message["data"]) is null, $"{type}: {CborJson.JsonDifference(sent, message["data"])}");

                // The C# node forwarded the bytes unchanged (same digest out of the sender and into the receiver)
                // and did not consume them.
                JsonObject sentTrace = await sender.WaitForEventAsync(e => IsTrace(e, "out", "Data") && (string?)e["dataType"] == type);
                JsonObject receivedTrace = await receiver.WaitForEventAsync(e => IsTrace(e, "in", "Data") && (string?)e["dataType"] == type);
                Assert.Equal((string?)sentTrace["dataSha256"], (string?)receivedTrace["dataSha256"]);
                Assert.Equal(1L, (long?)sentTrace["hops"]);
                Assert.Equal(2L, (long?)receivedTrace["hops"]);
                Assert.False(router.HasReceived(type));
            }
        }

        // The same payloads to the C# node itself: it decodes what JavaScript encoded, and JavaScript encoded it
        // exactly as the C# encoder does.
        foreach ((string name, CborValue value) in PayloadCorpus.Items)
        {
            string type = $"direct:a->dotnet-router:{name}";
            await a.SendAsync(router.Id, type, CborJson.ToJson(value));
            Message message = await router.WaitForMessageAsync(type);
            Assert.True(CborJson.CborDifference(Normalize(value), message.Data) is null, $"{type}: {CborJson.CborDifference(Normalize(value), message.Data)}");
            Assert.True(value.Encode().AsSpan().SequenceEqual(message.RawData.Span), $"{type}: JavaScript encoded it differently\nC#:         {Convert.ToHexStringLower(value.Encode())}\nJavaScript: {Convert.ToHexStringLower(message.RawData.Span)}");
        }

        Note($"{PayloadCorpus.Items.Count} payloads each way through the C# node, and to it");
        AssertHealthy();
    }
}
