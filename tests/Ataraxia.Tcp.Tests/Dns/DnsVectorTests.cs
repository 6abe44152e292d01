using System.Net;
using System.Text.Json;
using Ataraxia.Tcp.Discovery.Dns;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.Dns;

/// <summary>
/// The packets the JavaScript implementation sends (category <c>mdns</c> of the shared vectors, made with
/// multicast-dns 7.2.5, which never compresses names): decoded and compared with the vectors' own decoding, and
/// re-encoded byte for byte without compression.
/// </summary>
public sealed class DnsVectorTests
{
    public static TheoryData<string, int> Packets()
    {
        var data = new TheoryData<string, int>();
        foreach (JsonElement vector in Vectors.InCategory("mdns"))
        {
            string name = vector.GetProperty("name").GetString()!;
            if (vector.TryGetProperty("packet", out _))
            {
                data.Add(name, 0);
            }
            else if (vector.TryGetProperty("packets", out JsonElement packets))
            {
                for (int i = 0; i < packets.GetArrayLength(); i++)
                {
                    data.Add(name, i);
                }
            }
        }

        return data;
    }

    [Fact]
    public void The_mdns_category_has_the_four_vectors_of_the_wire_spec()
    {
        string[] names = [.. Vectors.InCategory("mdns").Select(v => v.GetProperty("name").GetString()!)];

        Assert.Equal(["mdns/query", "mdns/announce", "mdns/goodbye", "mdns/discovered-service"], names);
        Assert.Equal(4, Packets().Count);   // query, announce, and the goodbye twice
    }

    [Theory]
    [MemberData(nameof(Packets))]
    public void Decodes_like_the_JavaScript_decoder(string name, int index)
    {
        (byte[] packet, JsonElement expected) = Load(name, index);

        DnsMessage message = DnsMessageReader.Read(packet);

        Assert.Equal(expected.GetProperty("id").GetInt32(), message.Id);
        Assert.Equal(expected.GetProperty("type").GetString() == "response", message.IsResponse);
        // dns-packet reports the flags word without the QR bit.
        Assert.Equal(expected.GetProperty("flags").GetInt32(), (ushort)message.Flags & 0x7FFF);
        Assert.Equal(0, message.Opcode);
        Assert.Equal(0, message.ResponseCode);
        Assert.False(message.IsTruncated);

        JsonElement[] questions = [.. expected.GetProperty("questions").EnumerateArray()];
        Assert.Equal(questions.Length, message.Questions.Count);
        for (int i = 0; i < questions.Length; i++)
        {
            Assert.Equal(questions[i].GetProperty("name").GetString(), message.Questions[i].Name.ToString());
            Assert.Equal(ParseType(questions[i].GetProperty("type").GetString()!), message.Questions[i].Type);
            Assert.Equal(ParseClass(questions[i].GetProperty("class").GetString()!), message.Questions[i].Class);
            Assert.False(message.Questions[i].UnicastResponse);
        }

        AssertRecords(expected.GetProperty("answers"), message.Answers);
        AssertRecords(expected.GetProperty("authorities"), message.Authorities);
        AssertRecords(expected.GetProperty("additionals"), message.Additionals);
    }

    [Theory]
    [MemberData(nameof(Packets))]
    public void Uncompressed_encoding_of_the_vector_model_reproduces_the_JavaScript_bytes(string name, int index)
    {
        (byte[] packet, JsonElement expected) = Load(name, index);
        DnsMessage model = FromJson(expected);

        Assert.Equal(DnsMessageReader.Read(packet), model);
        Assert.Equal(Convert.ToHexStringLower(packet), Convert.ToHexStringLower(DnsMessageWriter.ToArray(model, compressNames: false)));
        Assert.Equal(Convert.ToHexStringLower(packet), Convert.ToHexStringLower(DnsMessageWriter.ToArray(DnsMessageReader.Read(packet), compressNames: false)));
    }

    [Theory]
    [MemberData(nameof(Packets))]
    public void Compressed_encoding_decodes_to_the_same_message_and_is_never_longer(string name, int index)
    {
        (byte[] packet, _) = Load(name, index);
        DnsMessage message = DnsMessageReader.Read(packet);

        byte[] compressed = DnsMessageWriter.ToArray(message);

        Assert.Equal(message, DnsMessageReader.Read(compressed));
        Assert.True(compressed.Length <= packet.Length);
        if (message.Answers.Count + message.Additionals.Count > 0)
        {
            // Every vector response repeats names, and JavaScript sends them uncompressed.
            Assert.True(compressed.Length < packet.Length, $"{compressed.Length} < {packet.Length}");
        }
    }

    [Fact]
    public void Announcement_compresses_to_the_expected_layout()
    {
        (byte[] packet, _) = Load("mdns/announce", 0);
        DnsMessage message = DnsMessageReader.Read(packet);

        byte[] compressed = DnsMessageWriter.ToArray(message);

        // Owner "_example-net._tcp.local" at 12 (25 bytes); the PTR target is the instance label plus a pointer to it.
        Assert.Equal(251, packet.Length);
        Assert.Equal(146, compressed.Length);
        Assert.Equal(
            "000c0001000011940018" + "15776c7557434a703662767456686e3079616154654d" + "c00c",
            Convert.ToHexStringLower(compressed.AsSpan(37, 10 + 22 + 2)));
        // The SRV owner is the PTR target (at 47): one pointer.
        Assert.Equal("c02f0021", Convert.ToHexStringLower(compressed.AsSpan(71, 4)));
        // The SRV target is "vectorhost" plus a pointer to "local" (at 30); the A owner points to the SRV target (89).
        Assert.Equal("0a766563746f72686f7374c01e" + "c059", Convert.ToHexStringLower(compressed.AsSpan(89, 15)));
        Assert.True(DnsMessageWriter.GetLength(message) <= 1500);
    }

    [Fact]
    public void The_announcement_holds_everything_the_discovered_service_vector_lists()
    {
        JsonElement service = Vectors.Get("mdns/discovered-service").GetProperty("service");
        (byte[] packet, _) = Load("mdns/announce", 0);
        DnsMessage message = DnsMessageReader.Read(packet);
        IEnumerable<DnsRecord> all = message.Answers.Concat(message.Additionals);

        DnsRecord ptr = Assert.Single(all, r => r.Type == DnsRecordType.Ptr);
        DnsName instance = ((DnsPtrData)ptr.Data).Target;
        DnsSrvData srv = all.Where(r => r.Type == DnsRecordType.Srv && r.Name == instance)
            .Select(r => (DnsSrvData)r.Data).Single();
        // Sorted by host string, as the JavaScript browser does (WIRE.md §10.1).
        string[] hosts = [.. all.Where(r => r.Name == srv.Target && r.Data is DnsAddressData)
            .Select(r => ((DnsAddressData)r.Data).Address.ToString()).Order(StringComparer.Ordinal)];

        Assert.Equal(service.GetProperty("id").GetString(), instance.ToString());
        Assert.Equal(service.GetProperty("name").GetString(), instance.GetLabel(0));
        Assert.Equal("_" + service.GetProperty("type").GetString(), instance.GetLabel(1));
        Assert.Equal("_" + service.GetProperty("protocol").GetString(), instance.GetLabel(2));
        Assert.Equal(DnsName.Parse("local"), instance.Skip(3));
        Assert.Equal(
            [.. service.GetProperty("addresses").EnumerateArray().Select(a => (a.GetProperty("host").GetString()!, a.GetProperty("port").GetInt32()))],
            hosts.Select(host => (host, (int)srv.Port)).ToArray());
        Assert.Equal(Vectors.Get("mdns/announce").GetProperty("node_id_encoded").GetString(), instance.GetLabel(0));
    }

    internal static IEnumerable<byte[]> AllPackets() =>
        Packets().Select(row => Load((string)row[0], (int)row[1]).Packet);

    private static (byte[] Packet, JsonElement Decoded) Load(string name, int index)
    {
        JsonElement vector = Vectors.Get(name);
        JsonElement packet = vector.TryGetProperty("packet", out JsonElement single)
            ? single
            : vector.GetProperty("packets")[index];
        return (Vectors.Hex(packet.GetProperty("hex").GetString()!), packet.GetProperty("decoded"));
    }

    private static void AssertRecords(JsonElement expected, IReadOnlyList<DnsRecord> actual)
    {
        JsonElement[] records = [.. expected.EnumerateArray()];
        Assert.Equal(records.Length, actual.Count);
        for (int i = 0; i < records.Length; i++)
        {
            JsonElement record = records[i];
            Assert.Equal(record.GetProperty("name").GetString(), actual[i].Name.ToString());
            Assert.Equal(ParseType(record.GetProperty("type").GetString()!), actual[i].Type);
            Assert.Equal(ParseClass(record.GetProperty("class").GetString()!), actual[i].Class);
            Assert.Equal(record.GetProperty("ttl").GetUInt32(), actual[i].Ttl);
            Assert.Equal(record.GetProperty("flush").GetBoolean(), actual[i].CacheFlush);
            Assert.Equal(DataFromJson(actual[i].Type, record.GetProperty("data")), actual[i].Data);
        }
    }

    private static DnsMessage FromJson(JsonElement decoded)
    {
        DnsFlags flags = (DnsFlags)decoded.GetProperty("flags").GetInt32()
            | (decoded.GetProperty("type").GetString() == "response" ? DnsFlags.Response : DnsFlags.None);
        return new DnsMessage
        {
            Id = (ushort)decoded.GetProperty("id").GetInt32(),
            Flags = flags,
            Questions = [.. decoded.GetProperty("questions").EnumerateArray().Select(q => new DnsQuestion
            {
                Name = DnsName.Parse(q.GetProperty("name").GetString()!),
                Type = ParseType(q.GetProperty("type").GetString()!),
                Class = ParseClass(q.GetProperty("class").GetString()!),
            })],
            Answers = RecordsFromJson(decoded.GetProperty("answers")),
            Authorities = RecordsFromJson(decoded.GetProperty("authorities")),
            Additionals = RecordsFromJson(decoded.GetProperty("additionals")),
        };
    }

    private static DnsRecord[] RecordsFromJson(JsonElement records) =>
        [.. records.EnumerateArray().Select(r => new DnsRecord
        {
            Name = DnsName.Parse(r.GetProperty("name").GetString()!),
            Class = ParseClass(r.GetProperty("class").GetString()!),
            CacheFlush = r.GetProperty("flush").GetBoolean(),
            Ttl = r.GetProperty("ttl").GetUInt32(),
            Data = DataFromJson(ParseType(r.GetProperty("type").GetString()!), r.GetProperty("data")),
        })];

    private static DnsRecordData DataFromJson(DnsRecordType type, JsonElement data) => type switch
    {
        DnsRecordType.Ptr => new DnsPtrData(DnsName.Parse(data.GetString()!)),
        DnsRecordType.Srv => new DnsSrvData(
            (ushort)data.GetProperty("priority").GetInt32(),
            (ushort)data.GetProperty("weight").GetInt32(),
            (ushort)data.GetProperty("port").GetInt32(),
            DnsName.Parse(data.GetProperty("target").GetString()!)),
        DnsRecordType.A or DnsRecordType.Aaaa => new DnsAddressData(IPAddress.Parse(data.GetString()!)),
        _ => throw new InvalidOperationException($"The vectors hold no {type} record."),
    };

    private static DnsRecordType ParseType(string type) => type switch
    {
        "A" => DnsRecordType.A,
        "AAAA" => DnsRecordType.Aaaa,
        "PTR" => DnsRecordType.Ptr,
        "SRV" => DnsRecordType.Srv,
        "TXT" => DnsRecordType.Txt,
        "NSEC" => DnsRecordType.Nsec,
        _ => throw new InvalidOperationException($"Unexpected type {type} in the vectors."),
    };

    private static DnsClass ParseClass(string @class) =>
        @class == "IN" ? DnsClass.Internet : throw new InvalidOperationException($"Unexpected class {@class} in the vectors.");
}
