using System.Buffers.Binary;
using System.Net;

namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// Decodes DNS messages strictly and within fixed bounds, for packets from anyone on the local network. Bad input
/// throws <see cref="DnsFormatException"/> and nothing else; work and allocations are proportional to the packet,
/// never to the counts its header claims.
/// </summary>
/// <remarks>
/// Beyond RFC 1035, the reader refuses: packets over <see cref="MaxPacketLength"/> bytes; header counts the packet
/// cannot hold; compression pointers that do not point strictly before the name they continue (or before the target
/// of the previous pointer), which rules out loops and forward references, and pointers into the header; the
/// reserved label types 0x40 and 0x80; names over 255 bytes; RDATA of the known types (A, AAAA, PTR, SRV, TXT,
/// NSEC) that does not use exactly its RDLENGTH; NSEC bitmap windows out of order or of bad length; and bytes after
/// the last record.
/// </remarks>
internal static class DnsMessageReader
{
    /// <summary>The largest packet accepted: the mDNS maximum including IP and UDP headers (RFC 6762 §17).</summary>
    public const int MaxPacketLength = 9000;

    // A question is at least a root name (1 byte), QTYPE and QCLASS; a record adds TTL and RDLENGTH.
    private const int MinQuestionLength = 1 + 4;
    private const int MinRecordLength = 1 + 10;

    /// <summary>Decodes one DNS message.</summary>
    /// <param name="packet">The whole UDP payload; it is not referenced after the call.</param>
    /// <returns>The message.</returns>
    /// <exception cref="DnsFormatException">The packet is not a well-formed DNS message within the reader's
    /// limits.</exception>
    public static DnsMessage Read(ReadOnlySpan<byte> packet)
    {
        if (packet.Length > MaxPacketLength)
        {
            throw new DnsFormatException($"The DNS packet is {packet.Length} bytes; at most {MaxPacketLength} are accepted.");
        }

        if (packet.Length < DnsMessage.HeaderLength)
        {
            throw new DnsFormatException(0, $"the packet is {packet.Length} bytes, shorter than the {DnsMessage.HeaderLength}-byte header.");
        }

        ushort id = BinaryPrimitives.ReadUInt16BigEndian(packet);
        var flags = (DnsFlags)BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        int questionCount = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        int answerCount = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]);
        int authorityCount = BinaryPrimitives.ReadUInt16BigEndian(packet[8..]);
        int additionalCount = BinaryPrimitives.ReadUInt16BigEndian(packet[10..]);

        // Checked before anything is allocated: afterwards every count is below the packet length.
        int body = packet.Length - DnsMessage.HeaderLength;
        int recordCount = answerCount + authorityCount + additionalCount;
        if ((questionCount * MinQuestionLength) + (recordCount * MinRecordLength) > body)
        {
            throw new DnsFormatException(
                4,
                $"the header announces {questionCount} questions and {recordCount} records, which need at least " +
                $"{(questionCount * MinQuestionLength) + (recordCount * MinRecordLength)} bytes; only {body} follow the header.");
        }

        int position = DnsMessage.HeaderLength;
        DnsQuestion[] questions = questionCount == 0 ? [] : new DnsQuestion[questionCount];
        for (int i = 0; i < questions.Length; i++)
        {
            questions[i] = ReadQuestion(packet, ref position);
        }

        DnsRecord[] answers = ReadRecords(packet, ref position, answerCount);
        DnsRecord[] authorities = ReadRecords(packet, ref position, authorityCount);
        DnsRecord[] additionals = ReadRecords(packet, ref position, additionalCount);
        if (position != packet.Length)
        {
            throw new DnsFormatException(position, $"{packet.Length - position} bytes follow the last record.");
        }

        return new DnsMessage
        {
            Id = id,
            Flags = flags,
            Questions = questions,
            Answers = answers,
            Authorities = authorities,
            Additionals = additionals,
        };
    }

    private static DnsQuestion ReadQuestion(ReadOnlySpan<byte> packet, ref int position)
    {
        DnsName name = ReadName(packet, ref position, packet.Length);
        if (packet.Length - position < 4)
        {
            throw new DnsFormatException(position, "the packet ends inside a question's type and class.");
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(packet[position..]);
        ushort @class = BinaryPrimitives.ReadUInt16BigEndian(packet[(position + 2)..]);
        position += 4;
        return new DnsQuestion
        {
            Name = name,
            Type = (DnsRecordType)type,
            Class = (DnsClass)(@class & 0x7FFF),
            UnicastResponse = (@class & 0x8000) != 0,
        };
    }

    private static DnsRecord[] ReadRecords(ReadOnlySpan<byte> packet, ref int position, int count)
    {
        DnsRecord[] records = count == 0 ? [] : new DnsRecord[count];
        for (int i = 0; i < records.Length; i++)
        {
            records[i] = ReadRecord(packet, ref position);
        }

        return records;
    }

    private static DnsRecord ReadRecord(ReadOnlySpan<byte> packet, ref int position)
    {
        DnsName name = ReadName(packet, ref position, packet.Length);
        if (packet.Length - position < 10)
        {
            throw new DnsFormatException(position, "the packet ends inside a record's type, class, TTL and RDLENGTH.");
        }

        var type = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(packet[position..]);
        ushort @class = BinaryPrimitives.ReadUInt16BigEndian(packet[(position + 2)..]);
        uint ttl = BinaryPrimitives.ReadUInt32BigEndian(packet[(position + 4)..]);
        int dataLength = BinaryPrimitives.ReadUInt16BigEndian(packet[(position + 8)..]);
        position += 10;
        if (dataLength > packet.Length - position)
        {
            throw new DnsFormatException(
                position - 2,
                $"RDLENGTH {dataLength} runs past the end of the packet ({packet.Length - position} bytes left).");
        }

        int end = position + dataLength;
        DnsRecordData data = ReadData(packet, position, end, type);
        position = end;
        return new DnsRecord
        {
            Name = name,
            Class = (DnsClass)(@class & 0x7FFF),
            CacheFlush = (@class & 0x8000) != 0,
            Ttl = ttl,
            Data = data,
        };
    }

    private static DnsRecordData ReadData(ReadOnlySpan<byte> packet, int start, int end, DnsRecordType type)
    {
        ReadOnlySpan<byte> data = packet[start..end];
        switch (type)
        {
            case DnsRecordType.A:
                ExpectLength(start, data, 4, type);
                return new DnsAddressData(new IPAddress(data));
            case DnsRecordType.Aaaa:
                ExpectLength(start, data, 16, type);
                return new DnsAddressData(new IPAddress(data));
            case DnsRecordType.Ptr:
            {
                int position = start;
                DnsName target = ReadName(packet, ref position, end);
                ExpectEnd(position, end, type);
                return new DnsPtrData(target);
            }

            case DnsRecordType.Srv:
            {
                if (data.Length < 7)
                {
                    throw new DnsFormatException(start, $"SRV data is {data.Length} bytes; it needs at least 7.");
                }

                int position = start + 6;
                DnsName target = ReadName(packet, ref position, end);
                ExpectEnd(position, end, type);
                return new DnsSrvData(
                    BinaryPrimitives.ReadUInt16BigEndian(data),
                    BinaryPrimitives.ReadUInt16BigEndian(data[2..]),
                    BinaryPrimitives.ReadUInt16BigEndian(data[4..]),
                    target);
            }

            case DnsRecordType.Txt:
                return ReadTxt(data, start);
            case DnsRecordType.Nsec:
                return ReadNsec(packet, start, end);
            default:
                return new DnsUnknownData(type, data);
        }
    }

    private static DnsTxtData ReadTxt(ReadOnlySpan<byte> data, int start)
    {
        // One copy of the RDATA; the strings are slices of it.
        byte[] copy = data.ToArray();
        var strings = new List<ReadOnlyMemory<byte>>();
        int position = 0;
        while (position < copy.Length)
        {
            int length = copy[position];
            if (length > copy.Length - position - 1)
            {
                throw new DnsFormatException(
                    start + position,
                    $"a TXT string of {length} bytes runs past its RDLENGTH ({copy.Length - position - 1} bytes left).");
            }

            strings.Add(copy.AsMemory(position + 1, length));
            position += 1 + length;
        }

        return new DnsTxtData(strings);
    }

    private static DnsNsecData ReadNsec(ReadOnlySpan<byte> packet, int start, int end)
    {
        int position = start;
        DnsName next = ReadName(packet, ref position, end);
        var types = new List<DnsRecordType>();
        int previousWindow = -1;
        while (position < end)
        {
            if (end - position < 2)
            {
                throw new DnsFormatException(position, "NSEC data ends inside a bitmap window header.");
            }

            int window = packet[position];
            int length = packet[position + 1];
            if (window <= previousWindow)
            {
                throw new DnsFormatException(position, $"NSEC bitmap window {window} follows window {previousWindow}; windows must ascend.");
            }

            if (length is 0 or > 32)
            {
                throw new DnsFormatException(position + 1, $"NSEC bitmap length is {length}; it must be 1 to 32.");
            }

            if (length > end - position - 2)
            {
                throw new DnsFormatException(position + 1, $"NSEC bitmap of {length} bytes runs past its RDLENGTH.");
            }

            for (int i = 0; i < length; i++)
            {
                byte bits = packet[position + 2 + i];
                for (int bit = 0; bit < 8; bit++)
                {
                    if ((bits & (0x80 >> bit)) != 0)
                    {
                        types.Add((DnsRecordType)((window << 8) | (i << 3) | bit));
                    }
                }
            }

            previousWindow = window;
            position += 2 + length;
        }

        return new DnsNsecData(next, types);
    }

    /// <summary>
    /// Reads a possibly compressed name starting at <paramref name="position"/>, whose uncompressed part must end by
    /// <paramref name="end"/>, and moves <paramref name="position"/> past it.
    /// </summary>
    /// <remarks>
    /// Each pointer must point strictly before the start of the name and before the previous pointer's target, so
    /// every jump goes further back: a loop is impossible and at most one jump per byte of packet is followed. The
    /// name itself is bounded by 255 bytes (hence at most 127 labels).
    /// </remarks>
    private static DnsName ReadName(ReadOnlySpan<byte> packet, ref int position, int end)
    {
        Span<byte> wire = stackalloc byte[DnsName.MaxWireLength];
        int length = 0;
        int labels = 0;
        int cursor = position;
        int limit = position;
        bool jumped = false;
        while (true)
        {
            if (cursor >= end)
            {
                throw new DnsFormatException(cursor, jumped ? "a name runs past the end of the packet." : "a name runs past the end of its field.");
            }

            byte lead = packet[cursor];
            switch (lead & 0xC0)
            {
                case 0x00 when lead == 0:
                    wire[length++] = 0;
                    if (!jumped)
                    {
                        position = cursor + 1;
                    }

                    return DnsName.FromValidatedWire(wire[..length].ToArray());

                case 0x00:
                    if (lead > end - cursor - 1)
                    {
                        throw new DnsFormatException(cursor, $"a label of {lead} bytes runs past the end of {(jumped ? "the packet" : "its field")}.");
                    }

                    // The label, its length byte and the terminating zero must still fit in 255 bytes.
                    if (length + 1 + lead + 1 > DnsName.MaxWireLength)
                    {
                        throw new DnsFormatException(cursor, $"a name is longer than {DnsName.MaxWireLength} bytes.");
                    }

                    if (++labels > DnsName.MaxLabelCount)
                    {
                        throw new DnsFormatException(cursor, $"a name has more than {DnsName.MaxLabelCount} labels.");
                    }

                    packet.Slice(cursor, lead + 1).CopyTo(wire[length..]);
                    length += lead + 1;
                    cursor += lead + 1;
                    break;

                case 0xC0:
                    if (end - cursor < 2)
                    {
                        throw new DnsFormatException(cursor, $"a compression pointer is cut off by the end of {(jumped ? "the packet" : "its field")}.");
                    }

                    int target = ((lead & 0x3F) << 8) | packet[cursor + 1];
                    if (target >= packet.Length)
                    {
                        throw new DnsFormatException(cursor, $"a compression pointer to {target} points past the end of the packet ({packet.Length} bytes).");
                    }

                    if (target >= limit)
                    {
                        throw new DnsFormatException(cursor, $"a compression pointer to {target} does not point back before {limit} (a loop or forward reference).");
                    }

                    if (target < DnsMessage.HeaderLength)
                    {
                        throw new DnsFormatException(cursor, $"a compression pointer to {target} points into the header.");
                    }

                    if (!jumped)
                    {
                        position = cursor + 2;
                        jumped = true;
                        end = packet.Length;
                    }

                    limit = target;
                    cursor = target;
                    break;

                default:
                    // A length above 63 reads as label type 0x40 or 0x80 (RFC 6891 §5 retired the former).
                    throw new DnsFormatException(
                        cursor,
                        $"byte 0x{lead:X2} is neither a label length (at most {DnsName.MaxLabelLength}) nor a compression pointer; label types 0x40 and 0x80 are reserved.");
            }
        }
    }

    private static void ExpectLength(int start, ReadOnlySpan<byte> data, int expected, DnsRecordType type)
    {
        if (data.Length != expected)
        {
            throw new DnsFormatException(start, $"{type.ToMnemonic()} data is {data.Length} bytes; it must be {expected}.");
        }
    }

    private static void ExpectEnd(int position, int end, DnsRecordType type)
    {
        if (position != end)
        {
            throw new DnsFormatException(position, $"{type.ToMnemonic()} data leaves {end - position} of its RDLENGTH bytes unread.");
        }
    }
}
