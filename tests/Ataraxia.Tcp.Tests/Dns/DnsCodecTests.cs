using System.Buffers;
using System.Net;
using System.Text;
using Ataraxia.Tcp.Discovery.Dns;

namespace Ataraxia.Tcp.Tests.Dns;

/// <summary>Hand-made messages: compression, the mDNS class bits, TXT attributes, NSEC bitmaps, sizes.</summary>
public sealed class DnsCodecTests
{
    private static readonly DnsName ServiceType = DnsName.Parse("_example-net._tcp.local");
    private static readonly DnsName Instance = ServiceType.Prepend("Node One");
    private static readonly DnsName Host = DnsName.Parse("vectorhost.local");

    [Fact]
    public void Compression_points_repeated_suffixes_at_their_first_appearance()
    {
        var message = new DnsMessage
        {
            Questions = [new DnsQuestion { Name = DnsName.Parse("foo.local"), Type = DnsRecordType.Ptr }],
            Answers =
            [
                new DnsRecord { Name = DnsName.Parse("bar.foo.local"), Ttl = 120, Data = new DnsPtrData(DnsName.Parse("foo.local")) },
                new DnsRecord { Name = DnsName.Parse("baz.local"), Ttl = 120, Data = new DnsPtrData(DnsName.Parse("bar.foo.local")) },
            ],
        };

        byte[] packet = DnsMessageWriter.ToArray(message);

        Assert.Equal(
            "0000" + "0000" + "0001" + "0002" + "0000" + "0000"
            + "03666f6f056c6f63616c00" + "000c" + "0001"                            // 12: foo.local (local at 16)
            + "03626172c00c" + "000c" + "0001" + "00000078" + "0002" + "c00c"      // 27: bar + ->foo.local
            + "0362617ac010" + "000c" + "0001" + "00000078" + "0002" + "c01b",     // 45: baz + ->local, rdata ->bar.foo.local
            Convert.ToHexStringLower(packet));
        Assert.Equal(message, DnsMessageReader.Read(packet));
        Assert.Equal("bar.foo.local", ((DnsPtrData)DnsMessageReader.Read(packet).Answers[1].Data).Target.ToString());
    }

    [Fact]
    public void Compression_never_changes_the_case_of_a_name()
    {
        var message = new DnsMessage
        {
            Answers =
            [
                new DnsRecord { Name = DnsName.Parse("Host.local"), Ttl = 1, Data = new DnsAddressData(IPAddress.Loopback) },
                new DnsRecord { Name = DnsName.Parse("host.local"), Ttl = 1, Data = new DnsAddressData(IPAddress.Loopback) },
            ],
        };

        DnsMessage decoded = DnsMessageReader.Read(DnsMessageWriter.ToArray(message));

        Assert.Equal("Host.local", decoded.Answers[0].Name.ToString());
        Assert.Equal("host.local", decoded.Answers[1].Name.ToString());
    }

    [Fact]
    public void Uncompressed_writing_repeats_every_name()
    {
        var message = new DnsMessage
        {
            Answers = [new DnsRecord { Name = Host, Ttl = 1, Data = new DnsPtrData(Host) }],
        };

        byte[] packet = DnsMessageWriter.ToArray(message, compressNames: false);

        Assert.Equal(12 + 18 + 10 + 18, packet.Length);
        Assert.Equal(message, DnsMessageReader.Read(packet));
    }

    [Fact]
    public void Names_written_beyond_the_pointer_range_are_not_pointed_to()
    {
        var message = new DnsMessage
        {
            Answers =
            [
                new DnsRecord { Name = DnsName.Parse("a.local"), Ttl = 1, Data = new DnsUnknownData((DnsRecordType)0xFF00, new byte[20000]) },
                new DnsRecord { Name = DnsName.Parse("b.local"), Ttl = 1, Data = new DnsUnknownData((DnsRecordType)0xFF00, []) },
                new DnsRecord { Name = DnsName.Parse("b.local"), Ttl = 1, Data = new DnsUnknownData((DnsRecordType)0xFF00, []) },
            ],
        };

        byte[] packet = DnsMessageWriter.ToArray(message);

        // "local" is at 14 and reused; "b.local" first appears at 20031, beyond 0x3FFF, so it is written out again.
        int second = 12 + 9 + 10 + 20000;
        int third = second + 4 + 10;
        Assert.Equal("0162c00e", Convert.ToHexStringLower(packet.AsSpan(second, 4)));
        Assert.Equal("0162c00e", Convert.ToHexStringLower(packet.AsSpan(third, 4)));
        Assert.Equal(third + 14, packet.Length);
    }

    [Fact]
    public void Unicast_response_and_cache_flush_are_the_top_bit_of_the_class()
    {
        var message = new DnsMessage
        {
            Questions =
            [
                new DnsQuestion { Name = ServiceType, Type = DnsRecordType.Ptr, UnicastResponse = true },
                new DnsQuestion { Name = ServiceType, Type = DnsRecordType.Any, Class = DnsClass.Any },
            ],
            Answers =
            [
                new DnsRecord { Name = Host, Ttl = 120, CacheFlush = true, Data = new DnsAddressData(IPAddress.Parse("192.168.1.10")) },
                new DnsRecord { Name = Host, Ttl = 120, Data = new DnsAddressData(IPAddress.Parse("192.168.1.11")) },
            ],
        };

        byte[] packet = DnsMessageWriter.ToArray(message);
        DnsMessage decoded = DnsMessageReader.Read(packet);

        Assert.Equal("000c8001", Convert.ToHexStringLower(packet.AsSpan(12 + 25, 4)));
        Assert.Equal("00ff00ff", Convert.ToHexStringLower(packet.AsSpan(12 + 25 + 4 + 2, 4)));
        Assert.Equal(message, decoded);
        Assert.True(decoded.Questions[0].UnicastResponse);
        Assert.Equal(DnsClass.Internet, decoded.Questions[0].Class);
        Assert.False(decoded.Questions[1].UnicastResponse);
        Assert.True(decoded.Answers[0].CacheFlush);
        Assert.Equal(DnsClass.Internet, decoded.Answers[0].Class);
        Assert.False(decoded.Answers[1].CacheFlush);
        Assert.NotEqual(message.Answers[0], message.Answers[0] with { CacheFlush = false });
        Assert.Throws<ArgumentException>(() => DnsMessageWriter.ToArray(message with
        {
            Questions = [new DnsQuestion { Name = Host, Type = DnsRecordType.A, Class = (DnsClass)0x8001 }],
        }));
    }

    [Fact]
    public void Header_flags_opcode_and_rcode_round_trip()
    {
        DnsFlags flags = (DnsFlags.Response | DnsFlags.Authoritative | DnsFlags.Truncated).WithOpcode(5).WithResponseCode(3);
        var message = new DnsMessage { Id = 0xBEEF, Flags = flags };

        byte[] packet = DnsMessageWriter.ToArray(message);
        DnsMessage decoded = DnsMessageReader.Read(packet);

        Assert.Equal("beef" + "ae03" + "0000000000000000", Convert.ToHexStringLower(packet));
        Assert.Equal(message, decoded);
        Assert.True(decoded.IsResponse);
        Assert.True(decoded.IsAuthoritative);
        Assert.True(decoded.IsTruncated);
        Assert.Equal(5, decoded.Opcode);
        Assert.Equal(3, decoded.ResponseCode);
        Assert.Equal(0, flags.WithOpcode(0).GetOpcode());
        Assert.Throws<ArgumentOutOfRangeException>(() => flags.WithOpcode(16));
        Assert.Throws<ArgumentOutOfRangeException>(() => flags.WithResponseCode(-1));
    }

    [Fact]
    public void Every_record_type_round_trips()
    {
        var message = new DnsMessage
        {
            Flags = DnsFlags.Response | DnsFlags.Authoritative,
            Answers = [new DnsRecord { Name = ServiceType, Ttl = 4500, Data = new DnsPtrData(Instance) }],
            Additionals =
            [
                new DnsRecord { Name = Instance, Ttl = 120, CacheFlush = true, Data = new DnsSrvData(1, 2, 43210, Host) },
                new DnsRecord { Name = Instance, Ttl = 4500, CacheFlush = true, Data = DnsTxtData.FromProperties([new("id", "wluWCJp6bvtVhn0yaaTeM"), new("tls", null)]) },
                new DnsRecord { Name = Host, Ttl = 120, CacheFlush = true, Data = new DnsAddressData(IPAddress.Parse("192.168.1.10")) },
                new DnsRecord { Name = Host, Ttl = 120, CacheFlush = true, Data = new DnsAddressData(IPAddress.Parse("fe80::1")) },
                new DnsRecord { Name = Host, Ttl = 120, CacheFlush = true, Data = DnsNsecData.ForOwner(Host, DnsRecordType.A, DnsRecordType.Aaaa) },
                new DnsRecord { Name = Host, Ttl = 7, Class = (DnsClass)3, Data = new DnsUnknownData((DnsRecordType)13, [1, 2, 3]) },
            ],
        };

        foreach (bool compress in new[] { true, false })
        {
            DnsMessage decoded = DnsMessageReader.Read(DnsMessageWriter.ToArray(message, compress));

            Assert.Equal(message, decoded);
            Assert.Equal(
                [DnsRecordType.Srv, DnsRecordType.Txt, DnsRecordType.A, DnsRecordType.Aaaa, DnsRecordType.Nsec, (DnsRecordType)13],
                decoded.Additionals.Select(r => r.Type));
            Assert.Equal("Node One._example-net._tcp.local", decoded.Additionals[0].Name.ToString());
            Assert.Equal(new byte[] { 1, 2, 3 }, ((DnsUnknownData)decoded.Additionals[5].Data).Data.ToArray());
        }
    }

    [Fact]
    public void TXT_attributes_follow_RFC_6763_section_6()
    {
        var txt = new DnsTxtData(
        [
            "Id=first"u8.ToArray(),
            "ID=second"u8.ToArray(),         // a repeated key (ignoring case): only the first counts
            "tls"u8.ToArray(),               // no '=': a boolean attribute
            "empty="u8.ToArray(),            // '=' and nothing: an empty value
            "eq=a=b"u8.ToArray(),            // the value runs from the first '='
            "=novalue"u8.ToArray(),          // no key: ignored
            Array.Empty<byte>(),             // empty string: ignored
            "bad\u0001key=x"u8.ToArray(),    // not printable ASCII: ignored
            "bin=\u00ff"u8.ToArray(),        // values are opaque bytes
        ]);

        IReadOnlyDictionary<string, ReadOnlyMemory<byte>?> properties = txt.GetProperties();

        Assert.Equal(5, properties.Count);
        Assert.Equal("first", Encoding.UTF8.GetString(properties["id"]!.Value.Span));
        Assert.True(properties.ContainsKey("TLS"));
        Assert.Null(properties["tls"]);
        Assert.True(properties["Empty"]!.Value.IsEmpty);
        Assert.Equal("a=b", Encoding.UTF8.GetString(properties["eq"]!.Value.Span));
        Assert.Equal(new byte[] { 0xC3, 0xBF }, properties["bin"]!.Value.ToArray());
    }

    [Fact]
    public void TXT_from_properties_encodes_key_value_strings()
    {
        DnsTxtData txt = DnsTxtData.FromProperties([new("id", "abc"), new("tls", null), new("note", "")]);
        var record = new DnsRecord { Name = Instance, Ttl = 1, Data = txt };

        byte[] packet = DnsMessageWriter.ToArray(new DnsMessage { Answers = [record] });

        Assert.Equal("06" + "69643d616263" + "03" + "746c73" + "05" + "6e6f74653d", Convert.ToHexStringLower(packet.AsSpan(packet.Length - 17)));
        Assert.Equal(txt, DnsMessageReader.Read(packet).Answers[0].Data);
        Assert.Equal("abc", Encoding.UTF8.GetString(txt.GetProperties()["ID"]!.Value.Span));
        // No attributes: one empty string (RFC 6763 §6.1).
        Assert.True(Assert.Single(DnsTxtData.FromProperties([]).Strings).IsEmpty);
        Assert.Throws<ArgumentException>(() => DnsTxtData.FromProperties([new("a=b", "c")]));
        Assert.Throws<ArgumentException>(() => DnsTxtData.FromProperties([new("", "c")]));
        Assert.Throws<ArgumentException>(() => DnsTxtData.FromProperties([new("k", "v"), new("K", "w")]));
        Assert.Throws<ArgumentException>(() => DnsTxtData.FromProperties([new("k", new string('v', 254))]));
        Assert.Throws<ArgumentException>(() => new DnsTxtData([new byte[256]]));
    }

    [Fact]
    public void Empty_TXT_data_round_trips_as_no_strings()
    {
        var message = new DnsMessage { Answers = [new DnsRecord { Name = Instance, Ttl = 1, Data = new DnsTxtData([]) }] };

        DnsMessage decoded = DnsMessageReader.Read(DnsMessageWriter.ToArray(message));

        Assert.Empty(((DnsTxtData)decoded.Answers[0].Data).Strings);
        Assert.Equal(message, decoded);
    }

    [Fact]
    public void NSEC_bitmap_matches_RFC_4034_and_round_trips()
    {
        DnsNsecData nsec = DnsNsecData.ForOwner(Instance, DnsRecordType.Nsec, DnsRecordType.Srv, DnsRecordType.Txt, DnsRecordType.Ptr, DnsRecordType.A, DnsRecordType.Aaaa, DnsRecordType.A);
        var message = new DnsMessage { Answers = [new DnsRecord { Name = Instance, Ttl = 120, CacheFlush = true, Data = nsec }] };

        byte[] packet = DnsMessageWriter.ToArray(message);

        // Window 0, 6 bytes: A(1) PTR(12) TXT(16) AAAA(28) SRV(33) NSEC(47); the next name is a pointer to the owner.
        Assert.Equal("000a" + "c00c" + "0006" + "400880084001", Convert.ToHexStringLower(packet.AsSpan(packet.Length - 12)));
        Assert.Equal([DnsRecordType.A, DnsRecordType.Ptr, DnsRecordType.Txt, DnsRecordType.Aaaa, DnsRecordType.Srv, DnsRecordType.Nsec], nsec.Types);
        Assert.Equal(message, DnsMessageReader.Read(packet));
        Assert.Throws<ArgumentException>(() => DnsNsecData.ForOwner(Instance, (DnsRecordType)256));
    }

    [Fact]
    public void NSEC_with_several_windows_round_trips()
    {
        DnsRecordType[] types = [DnsRecordType.A, (DnsRecordType)255, (DnsRecordType)256, (DnsRecordType)0x8001, (DnsRecordType)0xFFFF];
        var message = new DnsMessage { Answers = [new DnsRecord { Name = Host, Ttl = 1, Data = new DnsNsecData(DnsName.Parse("next.local"), types) }] };

        byte[] packet = DnsMessageWriter.ToArray(message, compressNames: false);
        DnsMessage decoded = DnsMessageReader.Read(packet);

        Assert.Equal(message, decoded);
        Assert.Equal(types, ((DnsNsecData)decoded.Answers[0].Data).Types);
        // Windows 0 (32 bytes: type 255 is the last bit), 1, 0x80 and 0xFF (32 bytes).
        Assert.Equal(12 + 18 + 10 + 12 + (2 + 32) + (2 + 1) + (2 + 1) + (2 + 32), packet.Length);
    }

    [Fact]
    public void Size_checks_report_whether_a_message_fits()
    {
        DnsMessage message = new()
        {
            Flags = DnsFlags.Response | DnsFlags.Authoritative,
            Answers = [.. Enumerable.Range(0, 60).Select(i => new DnsRecord
            {
                Name = ServiceType,
                Ttl = 4500,
                Data = new DnsPtrData(ServiceType.Prepend($"node-{i:D3}-{new string('x', 20)}")),
            })],
        };
        int length = DnsMessageWriter.GetLength(message);
        byte[] buffer = new byte[length];

        Assert.True(length > 1500);
        Assert.False(DnsMessageWriter.TryWrite(message, buffer.AsSpan(0, 1500), out int needed));
        Assert.Equal(length, needed);
        Assert.False(DnsMessageWriter.TryWrite(message, buffer.AsSpan(0, length - 1), out needed));
        Assert.Equal(length, needed);
        Assert.True(DnsMessageWriter.TryWrite(message, buffer, out int written));
        Assert.Equal(length, written);
        Assert.Equal(DnsMessageWriter.ToArray(message), buffer);
        Assert.True(DnsMessageWriter.GetLength(message, compressNames: false) > length);

        var output = new ArrayBufferWriter<byte>();
        output.Write(new byte[] { 0xAA });
        Assert.Equal(length, DnsMessageWriter.Write(message, output));
        Assert.Equal(buffer, output.WrittenSpan[1..].ToArray());
        Assert.Equal(message, DnsMessageReader.Read(buffer));
    }

    [Fact]
    public void Equality_is_structural()
    {
        DnsMessage Build(string host) => new()
        {
            Answers = [new DnsRecord { Name = DnsName.Parse(host), Ttl = 1, Data = DnsTxtData.FromProperties([new("k", "v")]) }],
        };

        Assert.Equal(Build("Host.local"), Build("host.LOCAL"));
        Assert.Equal(Build("Host.local").GetHashCode(), Build("host.LOCAL").GetHashCode());
        Assert.NotEqual(Build("host.local"), Build("other.local"));
        Assert.NotEqual(Build("host.local"), Build("host.local") with { Id = 1 });
        Assert.NotEqual<DnsRecordData>(new DnsUnknownData((DnsRecordType)99, [1]), new DnsUnknownData((DnsRecordType)98, [1]));
        Assert.NotEqual<DnsRecordData>(new DnsAddressData(IPAddress.Loopback), new DnsAddressData(IPAddress.IPv6Loopback));
        Assert.Equal(DnsRecordType.A, new DnsAddressData(IPAddress.Loopback).Type);
        Assert.Equal(DnsRecordType.Aaaa, new DnsAddressData(IPAddress.IPv6Loopback).Type);
    }
}
