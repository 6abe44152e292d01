using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Scenario 7: hostile but valid traffic. JavaScript sends the largest payload the C# frame limit lets through;
/// C# sends CBOR that JavaScript's encoder never writes but its decoder accepts (WIRE.md §2.2): half floats,
/// non-minimal argument widths, indefinite lengths, epoch dates. Nothing of WIRE.md §3.3 is sent.
/// </summary>
[Collection(JsNodeTests.Name)]
[Trait("Category", "Integration")]
public sealed class HostileTests(ITestOutputHelper output) : InteropTest(output)
{
    // Room for the rest of the DATA frame: tag, target, type, the byte string heads and one path entry
    // (WIRE.md §3.1) need 59–67 bytes here.
    private const int FrameHeadroom = 128;

    [JsTheory]
    [InlineData("tcp")]
    [InlineData("ws")]
    public async Task HostileButValid_MaximalPayloadAndUnusualCbor(string transport)
    {
        DotNetNode dotNet = await StartDotNetAsync("dotnet");
        JsNode js = await StartJsAsync("js");
        _ = transport == "tcp" ? await dotNet.ConnectAsync(await js.ListenAsync()) : await dotNet.ConnectWebSocketAsync(await js.ListenWebSocketAsync());
        Node jsNode = await dotNet.WaitForNodeAsync(js.Id);
        await js.WaitForAvailableAsync(dotNet.Id);

        // JavaScript → C#: one byte string just under the frame limit (16 MiB by default).
        long maxFrame = dotNet.Network.Options.Session.MaxFrameSize;
        int size = checked((int)maxFrame - FrameHeadroom);
        const uint seed = 20240229;
        await js.RequestAsync(
            new JsonObject { ["cmd"] = "send-bytes", ["to"] = dotNet.IdHex, ["type"] = "hostile:max", ["size"] = size, ["seed"] = seed },
            "sent",
            timeout: TimeSpan.FromSeconds(60));
        Message big = await dotNet.WaitForMessageAsync("hostile:max");
        JsonObject bigTrace = await js.WaitForEventAsync(e => IsTrace(e, "out", "Data") && (string?)e["dataType"] == "hostile:max");
        Assert.Equal(size + 5, big.RawData.Length); // 5a + 4-byte length + the bytes
        Assert.True(TestPatterns.Bytes(size, seed).AsSpan().SequenceEqual(big.Data.AsBytes().Span), "The maximal payload arrived changed.");
        Assert.Equal(Sha256(big.RawData.Span), (string?)bigTrace["dataSha256"]);
        int frameLength = PeerMessageCodec.GetEncodedLength(new PeerData(dotNet.Id, "hostile:max", big.RawData, [new PeerPathEntry(js.Id, 0)]));
        Note($"{size} bytes of payload in a DATA message of about {frameLength} bytes (limit {maxFrame})");
        Assert.InRange((long)frameLength, maxFrame - FrameHeadroom, maxFrame);

        // C# → JavaScript: unusual but valid encodings, each decoded to the value it stands for.
        foreach ((string name, byte[] encoded, JsonNode? expected) in UnusualCbor())
        {
            string type = "hostile:" + name;
            await jsNode.SendEncodedAsync(type, encoded).DefaultTimeout();
            JsonObject received = await js.WaitForMessageAsync(type);
            Assert.True(
                CborJson.JsonDifference(expected, received["data"]) is null,
                $"{type} ({Convert.ToHexStringLower(encoded)}): {CborJson.JsonDifference(expected, received["data"])}\nexpected: {expected?.ToJsonString()}\nactual:   {received["data"]?.ToJsonString()}");
        }

        Note($"JavaScript decoded {UnusualCbor().Count} unusual encodings");

        // The link still works both ways, and neither side is hurt.
        await DirectTests.ExchangePayloadsAsync(dotNet, js);
        AssertHealthy();
    }

    /// <summary>Encodings JavaScript accepts on input (WIRE.md §2.2) but never produces, with the value each means.</summary>
    private static List<(string Name, byte[] Encoded, JsonNode? Expected)> UnusualCbor()
    {
        static JsonNode Number(string text) => new JsonObject { ["$number"] = text };
        static JsonNode Date(string iso) => new JsonObject { ["$date"] = iso };
        static JsonNode Bytes(string hex) => new JsonObject { ["$bytes"] = hex };
        static byte[] Float64(double value)
        {
            var bytes = new byte[9];
            bytes[0] = 0xfb;
            BinaryPrimitives.WriteDoubleBigEndian(bytes.AsSpan(1), value);
            return bytes;
        }

        static byte[] Text(string text)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            return utf8.Length < 24 ? [(byte)(0x60 | utf8.Length), .. utf8] : [0x78, checked((byte)utf8.Length), .. utf8];
        }

        byte[] chunkedText = [0x7f, .. Text("grü"), .. Text("ße "), .. Text("世界"), 0xff];
        return
        [
            // Half floats (f9): JavaScript only writes the four special values this way.
            ("half-1.5", Convert.FromHexString("f93e00"), 1.5),
            ("half-1", Convert.FromHexString("f93c00"), 1),
            ("half-max", Convert.FromHexString("f97bff"), 65504),
            ("half-subnormal", Convert.FromHexString("f90001"), 5.960464477539063E-08),
            ("half-minus-2", Convert.FromHexString("f9c000"), -2),
            ("half-minus-zero", Convert.FromHexString("f98000"), Number("-0")),
            ("half-nan", Convert.FromHexString("f97e00"), Number("NaN")),
            ("half-infinity", Convert.FromHexString("f97c00"), Number("Infinity")),
            ("half-minus-infinity", Convert.FromHexString("f9fc00"), Number("-Infinity")),

            // Wider floats than needed.
            ("float32-for-integer", Convert.FromHexString("fa3f800000"), 1),
            ("float64-for-1.5", Convert.FromHexString("fb3ff8000000000000"), 1.5),

            // Non-minimal integer widths.
            ("uint64-1", Convert.FromHexString("1b0000000000000001"), 1),
            ("uint8-0", Convert.FromHexString("1800"), 0),
            ("uint16-23", Convert.FromHexString("190017"), 23),
            ("uint32-24", Convert.FromHexString("1a00000018"), 24),
            ("uint64-max-safe", Convert.FromHexString("1b001fffffffffffff"), 9007199254740991),
            ("nint64-minus-1", Convert.FromHexString("3b0000000000000000"), -1),
            ("nint32-minus-65536", Convert.FromHexString("3a0000ffff"), -65536),
            ("nint64-min-safe", Convert.FromHexString("3b001ffffffffffffe"), -9007199254740991),

            // Non-minimal lengths of strings, arrays and maps.
            ("text-long-head", Convert.FromHexString("7803616263"), "abc"),
            ("bytes-long-head", Convert.FromHexString("5a000000020102"), Bytes("0102")),
            ("array-long-head", Convert.FromHexString("9a000000020102"), new JsonArray(1, 2)),
            ("map-long-head", Convert.FromHexString("b90001616101"), new JsonObject { ["a"] = 1 }),

            // Indefinite lengths.
            ("indefinite-array", Convert.FromHexString("9f0102ff"), new JsonArray(1, 2)),
            ("indefinite-empty-array", Convert.FromHexString("9fff"), new JsonArray()),
            ("indefinite-map", Convert.FromHexString("bf616101616202ff"), new JsonObject { ["a"] = 1, ["b"] = 2 }),
            ("indefinite-bytes", Convert.FromHexString("5f42010241" + "03ff"), Bytes("010203")),
            ("indefinite-empty-bytes", Convert.FromHexString("5fff"), Bytes(string.Empty)),
            ("indefinite-text", chunkedText, "grüße 世界"),
            ("indefinite-nested", Convert.FromHexString("9f9f01ffbf61619fffff80a0ff"), new JsonArray(new JsonArray(1), new JsonObject { ["a"] = new JsonArray() }, new JsonArray(), new JsonObject())),

            // Map keys that are not text: JavaScript names the property after the key.
            ("integer-key", Convert.FromHexString("a1016161"), new JsonObject { ["1"] = "a" }),

            // Dates: tag 1 (epoch seconds, integer or float) and tag 0 with fraction and offset.
            ("epoch-integer", Convert.FromHexString("c11a5f5e1000"), Date("2020-09-13T12:26:40.000Z")),
            ("epoch-negative", Convert.FromHexString("c120"), Date("1969-12-31T23:59:59.000Z")),
            ("epoch-float", [0xc1, .. Float64(1600000000.5)], Date("2020-09-13T12:26:40.500Z")),
            ("epoch-half", Convert.FromHexString("c1f93e00"), Date("1970-01-01T00:00:01.500Z")),
            ("date-string-offset", [0xc0, .. Text("2020-01-02T03:04:05.678+01:00")], Date("2020-01-02T02:04:05.678Z")),

            // All of it at once, inside an indefinite map.
            ("combined", [0xbf, .. Text("half"), 0xf9, 0x3e, 0x00, .. Text("wide"), 0x1b, 0, 0, 0, 0, 0, 0, 0, 7, .. Text("when"), 0xc1, 0x00, .. Text("list"), 0x9f, 0xf6, 0xf7, 0xff, 0xff],
                new JsonObject { ["half"] = 1.5, ["wide"] = 7, ["when"] = Date("1970-01-01T00:00:00.000Z"), ["list"] = new JsonArray(null, new JsonObject { ["$undefined"] = true }) }),
        ];
    }
}
