using System.Text.Json;
using Ataraxia.Cbor;
using Ataraxia.Tests.Cbor;

namespace Ataraxia.Tests.Interop;

/// <summary>The payloads of the built-in data protocols (groups, per-node state, services) encode and decode exactly as in JavaScript.</summary>
public sealed class DataPayloadVectorTests
{
    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (string category in new[] { "group", "node-state", "services" })
        {
            foreach (JsonElement vector in Ataraxia.Testing.Vectors.InCategory(category))
            {
                names.Add(vector.GetProperty("name").GetString()!);
            }
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Payload_encodes_and_decodes_byte_for_byte(string name)
    {
        JsonElement vector = Ataraxia.Testing.Vectors.Get(name);
        CborValue value = JsValueConverter.ToCbor(vector.GetProperty("value"));
        string hex = vector.GetProperty("hex").GetString()!;

        Assert.StartsWith("at:", vector.GetProperty("data_type").GetString(), StringComparison.Ordinal);
        Assert.Equal(hex, Convert.ToHexStringLower(value.Encode()));
        CborAssert.Same(value, CborValue.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void All_data_protocol_vectors_are_covered()
    {
        Assert.Equal(5 + 2 + 15, Names().Count);
    }
}
