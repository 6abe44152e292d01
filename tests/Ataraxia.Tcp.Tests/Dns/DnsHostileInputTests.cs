using System.Net;
using Ataraxia.Tcp.Discovery.Dns;
using Xunit.Abstractions;

namespace Ataraxia.Tcp.Tests.Dns;

/// <summary>
/// Whatever arrives on the multicast socket either decodes or throws <see cref="DnsFormatException"/>: never another
/// exception, never a hang, never an allocation sized by a header count.
/// </summary>
public sealed class DnsHostileInputTests(ITestOutputHelper output)
{
    // Header with one question, and with two answers.
    private const string OneQuestion = "0000 0000 0001 0000 0000 0000";
    private const string TwoAnswers = "0000 0000 0000 0002 0000 0000";

    [Fact]
    public void Every_truncation_of_the_vector_packets_is_refused()
    {
        int cases = 0;
        foreach (byte[] packet in SourcePackets())
        {
            for (int length = 0; length < packet.Length; length++)
            {
                Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(packet.AsSpan(0, length)));
                cases++;
            }

            DnsMessageReader.Read(packet);
        }

        Assert.Equal(SourcePackets().Sum(p => p.Length), cases);
    }

    [Theory]
    [InlineData("self pointer", OneQuestion + "c00c 000c0001")]
    [InlineData("pointer to the start of its own name", OneQuestion + "0161 c00c 000c0001")]
    [InlineData("forward pointer", OneQuestion + "c010 000c0001 00")]
    [InlineData("pointer past the end", OneQuestion + "c0ff 000c0001")]
    [InlineData("pointer with the top bits of the offset set", OneQuestion + "ffff 000c0001")]
    [InlineData("pointer into the header", "0000 0000 0002 0000 0000 0000" + "00 000c0001" + "c005 000c0001")]
    [InlineData("pointer cut off", OneQuestion + "0161 0162 c0")]
    // Opaque data at 23 holds the loop, and the second record's name points into it.
    [InlineData("self loop behind a valid pointer", TwoAnswers + "00 ff000001 00000000 0002 c017" + "c017 ff000001 00000000 0000")]
    [InlineData("two-pointer cycle behind a valid pointer", TwoAnswers + "00 ff000001 00000000 0004 c019c017" + "c017 ff000001 00000000 0000")]
    [InlineData("loop whose pointer points before itself", TwoAnswers + "00 ff000001 00000000 0004 0161c017" + "c017 ff000001 00000000 0000")]
    public void Compression_pointer_abuse_is_refused(string why, string hex)
    {
        DnsFormatException error = Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet(hex)));
        output.WriteLine($"{why}: {error.Message}");
        Assert.True(error.Offset >= DnsMessage.HeaderLength, why);
    }

    [Fact]
    public void Pointers_to_earlier_names_are_followed()
    {
        DnsMessage message = DnsMessageReader.Read(Packet(
            TwoAnswers + "0161 00 ff000001 00000000 0002 c00c" + "0162 c00c 000c0001 00000000 0004 0163c00c"));

        Assert.Equal("b.a", message.Answers[1].Name.ToString());
        Assert.Equal("c.a", ((DnsPtrData)message.Answers[1].Data).Target.ToString());
    }

    [Fact]
    public void Labels_over_63_bytes_and_reserved_label_types_are_refused()
    {
        string label64 = "40" + new string('6', 128);
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet(OneQuestion + label64 + "00 000c0001")));
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet(OneQuestion + "80 000c0001")));
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet(OneQuestion + "0161 41 00 000c0001")));
        // A label that runs past the end.
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet(OneQuestion + "3f 6161")));
    }

    [Fact]
    public void Names_over_255_bytes_are_refused_also_when_built_from_pointers()
    {
        string label63 = "3f" + new string('6', 126);
        string label61 = "3d" + new string('6', 122);
        string label62 = "3e" + new string('6', 124);
        string three63 = label63 + label63 + label63;

        Assert.Equal(255, DnsMessageReader.Read(Packet(OneQuestion + three63 + label61 + "00 000c0001")).Questions[0].Name.WireLength);
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet(OneQuestion + three63 + label62 + "00 000c0001")));

        // The first name (193 bytes) is at 12; the second adds one label in front of a pointer to it.
        string header = "0000 0000 0002 0000 0000 0000";
        DnsMessage longest = DnsMessageReader.Read(Packet(header + three63 + "00 000c0001" + label61 + "c00c 000c0001"));
        Assert.Equal(255, longest.Questions[1].Name.WireLength);
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet(header + three63 + "00 000c0001" + label62 + "c00c 000c0001")));
    }

    [Fact]
    public void Huge_header_counts_with_a_tiny_body_are_refused_before_allocating()
    {
        byte[] packet = Packet("0000 8400 ffff ffff ffff ffff" + new string('0', 40));
        DnsMessageReader.Read(Packet(OneQuestion + "00 000c0001"));   // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        DnsFormatException error = Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(packet));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("65535 questions", error.Message, StringComparison.Ordinal);
        // Arrays for 65535 entries would take half a megabyte; the exception and its message take a few kilobytes.
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
        // One byte short of four minimal questions.
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet("0000 0000 0004 0000 0000 0000" + new string('0', 38))));
        Assert.Equal(4, DnsMessageReader.Read(Packet("0000 0000 0004 0000 0000 0000" + new string('0', 40))).Questions.Count);
    }

    [Theory]
    [InlineData("RDLENGTH past the end", "00 00010001 00000078 0004 c0a8")]
    [InlineData("RDLENGTH 65535", "00 00010001 00000078 ffff c0a80101")]
    [InlineData("A of 5 bytes", "00 00010001 00000078 0005 c0a8010100")]
    [InlineData("A of 3 bytes", "00 00010001 00000078 0003 c0a801")]
    [InlineData("AAAA of 15 bytes", "00 001c0001 00000078 000f 000102030405060708090a0b0c0d0e")]
    [InlineData("PTR with a byte left over", "00 000c0001 00000078 0002 0000")]
    [InlineData("PTR name past its RDLENGTH", "00 000c0001 00000078 0002 016100")]
    [InlineData("PTR pointer cut by its RDLENGTH", "00 000c0001 00000078 0001 c00c")]
    [InlineData("SRV of 6 bytes", "00 00210001 00000078 0006 000000000001")]
    [InlineData("SRV with a byte left over", "00 00210001 00000078 0008 0000000000010000")]
    [InlineData("TXT string past its RDLENGTH", "00 00100001 00000078 0002 0561")]
    [InlineData("NSEC without a window length", "00 002f0001 00000078 0002 0000")]
    [InlineData("NSEC window of length 0", "00 002f0001 00000078 0003 000000")]
    [InlineData("NSEC window of length 33", "00 002f0001 00000078 0024 00 0021 000000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("NSEC bitmap past its RDLENGTH", "00 002f0001 00000078 0004 00000240")]
    [InlineData("NSEC windows out of order", "00 002f0001 00000078 0007 00 010140 000140")]
    [InlineData("NSEC window repeated", "00 002f0001 00000078 0007 00 000140 000140")]
    [InlineData("bytes after the last record", "00 00010001 00000078 0004 c0a80101 00")]
    [InlineData("record cut inside its fixed fields", "00 00010001 000000")]
    public void Record_data_must_fill_its_RDLENGTH_exactly(string why, string record)
    {
        DnsFormatException error = Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Packet("0000 8400 0000 0001 0000 0000" + record)));
        output.WriteLine($"{why}: {error.Message}");
    }

    [Fact]
    public void Record_data_of_the_right_length_decodes()
    {
        DnsMessage message = DnsMessageReader.Read(Packet(
            "0000 8400 0000 0006 0000 0000"
            + "00 00010001 00000078 0004 c0a80101"
            + "00 001c0001 00000078 0010 fe800000000000000000000000000001"
            + "00 000c0001 00000078 0001 00"
            + "00 00210001 00000078 0007 000100020003 00"
            + "00 00100001 00000078 0004 0161 0100"
            + "00 002f0001 00000078 0007 00 000140 010180"));

        Assert.Equal(IPAddress.Parse("192.168.1.1"), ((DnsAddressData)message.Answers[0].Data).Address);
        Assert.Equal(IPAddress.Parse("fe80::1"), ((DnsAddressData)message.Answers[1].Data).Address);
        Assert.Equal(new DnsSrvData(1, 2, 3, DnsName.Root), message.Answers[3].Data);
        Assert.Equal(2, ((DnsTxtData)message.Answers[4].Data).Strings.Count);
        Assert.Equal([DnsRecordType.A, (DnsRecordType)256], ((DnsNsecData)message.Answers[5].Data).Types);
    }

    [Fact]
    public void Packets_over_9000_bytes_are_refused_up_front()
    {
        DnsMessage largest = DnsMessageReader.Read(Unknown(9000));

        Assert.Equal(9000 - 12 - 11, ((DnsUnknownData)largest.Answers[0].Data).Data.Length);
        DnsFormatException error = Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(Unknown(9001)));
        Assert.Contains("9000", error.Message, StringComparison.Ordinal);
        Assert.Throws<DnsFormatException>(() => DnsMessageReader.Read(new byte[65536]));

        static byte[] Unknown(int length)
        {
            byte[] packet = new byte[length];
            packet[7] = 1;                                       // one answer: root name, type 0xFF00, class IN
            packet[13] = 0xFF;
            packet[16] = 1;
            packet[21] = (byte)((length - 23) >> 8);             // RDLENGTH: the rest
            packet[22] = (byte)(length - 23);
            return packet;
        }
    }

    [Fact]
    public void Seeded_random_packets_decode_or_throw_the_codec_exception()
    {
        var random = new Random(6762);
        var counts = new Dictionary<string, (int Decoded, int Refused)>();
        for (int i = 0; i < 6000; i++)
        {
            (string kind, byte[] packet) = (i % 3) switch
            {
                0 => ("random bytes", RandomBytes(random, random.Next(0, 600))),
                1 => ("random body", RandomBody(random)),
                _ => ("structured", Structured(random)),
            };
            Count(counts, kind, DecodesOrRefuses(packet));
        }

        Report(counts);
        Assert.Equal(6000, counts.Values.Sum(c => c.Decoded + c.Refused));
        Assert.True(counts["structured"].Decoded > 100, "the structured generator should produce many valid packets");
        Assert.True(counts["structured"].Refused > 100, "the structured generator should produce many invalid packets");
    }

    [Fact]
    public void Seeded_mutations_of_the_vector_packets_decode_or_throw_the_codec_exception()
    {
        var random = new Random(6763);
        byte[][] sources = [.. SourcePackets()];
        var counts = new Dictionary<string, (int Decoded, int Refused)>();
        for (int i = 0; i < 6000; i++)
        {
            List<byte> packet = [.. sources[random.Next(sources.Length)]];
            int mutations = 1 + random.Next(3);
            string kind = mutations == 1 ? "one mutation" : "several mutations";
            for (int m = 0; m < mutations; m++)
            {
                Mutate(random, packet);
            }

            Count(counts, kind, DecodesOrRefuses([.. packet]));
        }

        Report(counts);
        Assert.Equal(6000, counts.Values.Sum(c => c.Decoded + c.Refused));
        Assert.True(counts["one mutation"].Decoded > 100, "flipped TTL, port or address bits should still decode");
        Assert.True(counts["one mutation"].Refused > 100, "broken structure should be refused");
    }

    // Decodes, or throws nothing but the codec's exception; whatever decodes survives a round trip.
    private static bool DecodesOrRefuses(byte[] packet)
    {
        DnsMessage message;
        try
        {
            message = DnsMessageReader.Read(packet);
        }
        catch (DnsFormatException error)
        {
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
            return false;
        }

        foreach (bool compress in new[] { true, false })
        {
            byte[] again = DnsMessageWriter.ToArray(message, compress);
            Assert.Equal(again.Length, DnsMessageWriter.GetLength(message, compress));
            if (again.Length <= DnsMessageReader.MaxPacketLength)
            {
                Assert.Equal(message, DnsMessageReader.Read(again));
            }
        }

        return true;
    }

    private static void Mutate(Random random, List<byte> packet)
    {
        int at = packet.Count == 0 ? 0 : random.Next(packet.Count);
        switch (random.Next(7))
        {
            case 0 when packet.Count > 0:
                packet[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when packet.Count > 0:
                byte[] interesting = [0x00, 0x01, 0x3F, 0x40, 0x80, 0xC0, 0xC0, 0xFF];
                packet[at] = random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : (byte)random.Next(256);
                break;
            case 2:
                packet.RemoveRange(at, packet.Count - at);
                break;
            case 3:
                packet.InsertRange(at, RandomBytes(random, 1 + random.Next(4)));
                break;
            case 4 when packet.Count > 0:
                packet.RemoveRange(at, Math.Min(packet.Count - at, 1 + random.Next(8)));
                break;
            case 5 when packet.Count > 1:
                // A compression pointer to a random offset.
                packet[at] = (byte)(0xC0 | random.Next(2));
                packet[(at + 1) % packet.Count] = (byte)random.Next(256);
                break;
            case 6 when packet.Count >= 12:
                // A header count changed by a little.
                int count = 4 + (2 * random.Next(4)) + 1;
                packet[count] = (byte)(packet[count] + random.Next(-2, 3));
                break;
            default:
                packet.Add((byte)random.Next(256));
                break;
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] RandomBody(Random random)
    {
        byte[] packet = RandomBytes(random, 12 + random.Next(0, 300));
        for (int i = 4; i < 12; i += 2)
        {
            packet[i] = 0;
            packet[i + 1] = (byte)random.Next(4);
        }

        return packet;
    }

    /// <summary>Plausible packets: real structure with names, pointers, lengths and data that are sometimes wrong.</summary>
    private static byte[] Structured(Random random)
    {
        var packet = new List<byte>();
        var names = new List<int>();
        int questions = random.Next(3);
        int records = random.Next(5);
        AddUInt16(packet, (ushort)random.Next(0x10000));
        AddUInt16(packet, (ushort)random.Next(0x10000));
        AddUInt16(packet, (ushort)(questions + (random.Next(20) == 0 ? 1 : 0)));
        AddUInt16(packet, (ushort)records);
        AddUInt16(packet, 0);
        AddUInt16(packet, 0);
        for (int i = 0; i < questions; i++)
        {
            AddName(random, packet, names);
            AddUInt16(packet, (ushort)random.Next(256));
            AddUInt16(packet, (ushort)random.Next(0x10000));
        }

        ushort[] types = [1, 28, 12, 33, 16, 47, 5, 0xFF00];
        for (int i = 0; i < records; i++)
        {
            AddName(random, packet, names);
            ushort type = types[random.Next(types.Length)];
            AddUInt16(packet, type);
            AddUInt16(packet, (ushort)(random.Next(2) == 0 ? 0x8001 : 1));
            packet.AddRange(RandomBytes(random, 4));
            int lengthAt = packet.Count;
            AddUInt16(packet, 0);
            switch (type)
            {
                case 1:
                    packet.AddRange(RandomBytes(random, 4));
                    break;
                case 28:
                    packet.AddRange(RandomBytes(random, 16));
                    break;
                case 12:
                    AddName(random, packet, names);
                    break;
                case 33:
                    packet.AddRange(RandomBytes(random, 6));
                    AddName(random, packet, names);
                    break;
                case 16:
                    for (int s = random.Next(4); s > 0; s--)
                    {
                        int length = random.Next(12);
                        packet.Add((byte)length);
                        packet.AddRange(RandomBytes(random, length));
                    }

                    break;
                case 47:
                    AddName(random, packet, names);
                    for (int window = random.Next(3), w = random.Next(3); w > 0; w--, window += random.Next(-1, 4))
                    {
                        int length = random.Next(10) == 0 ? random.Next(40) : 1 + random.Next(32);
                        packet.Add((byte)window);
                        packet.Add((byte)length);
                        packet.AddRange(RandomBytes(random, length));
                    }

                    break;
                default:
                    packet.AddRange(RandomBytes(random, random.Next(20)));
                    break;
            }

            int dataLength = packet.Count - lengthAt - 2 + (random.Next(15) == 0 ? random.Next(-2, 3) : 0);
            packet[lengthAt] = (byte)(dataLength >> 8);
            packet[lengthAt + 1] = (byte)dataLength;
        }

        if (random.Next(20) == 0)
        {
            packet.AddRange(RandomBytes(random, 1 + random.Next(3)));
        }

        return [.. packet];
    }

    private static void AddName(Random random, List<byte> packet, List<int> names)
    {
        names.Add(packet.Count);
        for (int labels = random.Next(4); labels > 0; labels--)
        {
            int length = random.Next(30) switch
            {
                0 => 63,
                1 => 64,
                _ => 1 + random.Next(12),
            };
            packet.Add((byte)length);
            for (int i = 0; i < length; i++)
            {
                packet.Add((byte)"abcXYZ-_. "[random.Next(10)]);
            }
        }

        if (names.Count > 1 && random.Next(3) > 0)
        {
            // Usually an earlier name; sometimes anywhere, this one included.
            int target = random.Next(8) == 0 ? random.Next(packet.Count + 8) : names[random.Next(names.Count - 1)];
            AddUInt16(packet, (ushort)(0xC000 | target));
        }
        else
        {
            packet.Add(0);
        }
    }

    private static void AddUInt16(List<byte> packet, ushort value)
    {
        packet.Add((byte)(value >> 8));
        packet.Add((byte)value);
    }

    private static IEnumerable<byte[]> SourcePackets()
    {
        foreach (byte[] packet in DnsVectorTests.AllPackets())
        {
            yield return packet;
            yield return DnsMessageWriter.ToArray(DnsMessageReader.Read(packet));
        }

        DnsName instance = DnsName.Parse("Node._example-net._tcp.local");
        DnsName host = DnsName.Parse("host.local");
        yield return DnsMessageWriter.ToArray(new DnsMessage
        {
            Flags = DnsFlags.Response | DnsFlags.Authoritative,
            Questions = [new DnsQuestion { Name = instance, Type = DnsRecordType.Any, UnicastResponse = true }],
            Answers = [new DnsRecord { Name = instance.Skip(1), Ttl = 4500, Data = new DnsPtrData(instance) }],
            Additionals =
            [
                new DnsRecord { Name = instance, Ttl = 120, CacheFlush = true, Data = new DnsSrvData(0, 0, 7000, host) },
                new DnsRecord { Name = instance, Ttl = 4500, CacheFlush = true, Data = DnsTxtData.FromProperties([new("id", "abc"), new("tls", null)]) },
                new DnsRecord { Name = host, Ttl = 120, CacheFlush = true, Data = new DnsAddressData(IPAddress.Parse("10.0.0.1")) },
                new DnsRecord { Name = instance, Ttl = 120, CacheFlush = true, Data = DnsNsecData.ForOwner(instance, DnsRecordType.Srv, DnsRecordType.Txt) },
            ],
        });
    }

    private static byte[] Packet(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static void Count(Dictionary<string, (int Decoded, int Refused)> counts, string kind, bool decoded)
    {
        (int d, int r) = counts.GetValueOrDefault(kind);
        counts[kind] = decoded ? (d + 1, r) : (d, r + 1);
    }

    private void Report(Dictionary<string, (int Decoded, int Refused)> counts)
    {
        foreach ((string kind, (int decoded, int refused)) in counts)
        {
            output.WriteLine($"{kind}: {decoded} decoded, {refused} refused");
        }
    }
}
