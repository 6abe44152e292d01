using System.Text.Json.Nodes;
using Ataraxia.Cbor;

namespace Ataraxia.Interop.Tests;

/// <summary>The comparisons the interop tests rely on see the differences that matter (no JavaScript needed).</summary>
[Trait("Category", "Integration")]
public sealed class CborJsonTests
{
    [Theory]
    [InlineData("1", "1.0")]
    [InlineData("{\"a\":1,\"10\":2}", "{\"10\":2,\"a\":1}")]
    [InlineData("{\"$number\":\"-0\"}", "{\"$number\":\"-0\"}")]
    [InlineData("[1e21, 9007199254740991]", "[1E+21, 9007199254740991.0]")]
    public void JsonDifference_AcceptsTheSameValue(string expected, string actual) =>
        Assert.Null(CborJson.JsonDifference(JsonNode.Parse(expected), JsonNode.Parse(actual)));

    [Theory]
    [InlineData("1", "1.0000000000000002")]
    [InlineData("0", "{\"$number\":\"-0\"}")]
    [InlineData("\"a\"", "\"A\"")]
    [InlineData("{\"a\":1}", "{\"a\":1,\"b\":2}")]
    [InlineData("{\"a\":1,\"b\":2}", "{\"a\":1}")]
    [InlineData("[1,2]", "[2,1]")]
    [InlineData("[null]", "[{\"$undefined\":true}]")]
    [InlineData("true", "false")]
    public void JsonDifference_SeesTheDifference(string expected, string actual) =>
        Assert.NotNull(CborJson.JsonDifference(JsonNode.Parse(expected), JsonNode.Parse(actual)));

    [Fact]
    public void JsonDifference_ComparesNumbersHeldAsLongsAndDoubles() =>
        Assert.Null(CborJson.JsonDifference(JsonValue.Create(4294967296L), JsonNode.Parse("4294967296")));

    [Fact]
    public void CborDifference_IsExact()
    {
        Assert.NotNull(CborJson.CborDifference(new CborInteger(1), new CborFloat(1.0)));
        Assert.NotNull(CborJson.CborDifference(new CborFloat(0.0), new CborFloat(-0.0)));
        Assert.NotNull(CborJson.CborDifference(new CborFloat(0.1), new CborFloat(0.1f)));
        Assert.NotNull(CborJson.CborDifference(CborValue.Null, CborValue.Undefined));
        Assert.NotNull(CborJson.CborDifference(new CborMap { ["a"] = 1, ["b"] = 2 }, new CborMap { ["b"] = 2, ["a"] = 1 }));
        Assert.NotNull(CborJson.CborDifference(new CborDate(DateTimeOffset.UnixEpoch), new CborDate(DateTimeOffset.UnixEpoch.AddMilliseconds(1))));
        Assert.Null(CborJson.CborDifference(new CborFloat(double.NaN), CborValue.Decode(Convert.FromHexString("f97e00"))));
        Assert.Null(CborJson.CborDifference(PayloadCorpus.Items[^1].Value, CborValue.Decode(PayloadCorpus.Items[^1].Value.Encode())));
    }

    [Fact]
    public void JsonForm_RoundTripsTheCorpus()
    {
        foreach ((string name, CborValue value) in PayloadCorpus.Items)
        {
            CborValue back = CborJson.FromJson(JsonNode.Parse(CborJson.ToJson(value)?.ToJsonString() ?? "null"));
            Assert.True(back.Encode().AsSpan().SequenceEqual(value.Encode()), name);
        }
    }

    [Fact]
    public void TestPatterns_MatchNodeJs()
    {
        // From js/node.js: Buffer.from(patternBytes(8, seed)).toString('hex').
        Assert.Equal("2101c54fd1d01ab2", Convert.ToHexStringLower(TestPatterns.Bytes(8, 1)));
        Assert.Equal("a9fce272c63145ab", Convert.ToHexStringLower(TestPatterns.Bytes(8, 20240229)));
    }
}
