using System.Buffers;
using System.Buffers.Binary;

namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// Encodes DNS messages, with name compression (RFC 1035 §4.1.4) unless asked not to. Compression covers question
/// and owner names and the names inside PTR, SRV and NSEC data, as mDNS allows (RFC 6762 §18.14); a suffix is
/// reused only when its bytes match exactly, so names keep their case.
/// </summary>
/// <remarks>
/// Use <see cref="GetLength"/> or <see cref="TryWrite"/> to keep a packet within a size, for example 1500 bytes on
/// Ethernet or the 9000-byte mDNS maximum (RFC 6762 §17). An invalid model (a class above <c>0x7FFF</c>, more
/// than 65535 entries in a section) throws <see cref="ArgumentException"/>.
/// </remarks>
internal static class DnsMessageWriter
{
    /// <summary>The highest offset a compression pointer can hold (14 bits).</summary>
    public const int MaxPointerOffset = 0x3FFF;

    /// <summary>Computes the encoded length of a message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="compressNames">Whether to compress names.</param>
    /// <returns>The length in bytes.</returns>
    /// <exception cref="ArgumentException">The message cannot be encoded.</exception>
    public static int GetLength(DnsMessage message, bool compressNames = true)
    {
        var writer = new WireWriter([], compressNames);
        writer.WriteMessage(message);
        return writer.Position;
    }

    /// <summary>Encodes a message into <paramref name="destination"/> if it fits.</summary>
    /// <param name="message">The message.</param>
    /// <param name="destination">Where to write; pass a slice of the size limit to enforce one.</param>
    /// <param name="length">The bytes written, or, if the message does not fit, the bytes it needs.</param>
    /// <param name="compressNames">Whether to compress names.</param>
    /// <returns><see langword="true"/> if the whole message was written; <see langword="false"/> if it needs more
    /// room than <paramref name="destination"/> has (what was written then is unspecified).</returns>
    /// <exception cref="ArgumentException">The message cannot be encoded.</exception>
    public static bool TryWrite(DnsMessage message, Span<byte> destination, out int length, bool compressNames = true)
    {
        var writer = new WireWriter(destination, compressNames);
        writer.WriteMessage(message);
        length = writer.Position;
        return !writer.Overflowed;
    }

    /// <summary>Encodes a message into <paramref name="output"/>.</summary>
    /// <param name="message">The message.</param>
    /// <param name="output">Where to write.</param>
    /// <param name="compressNames">Whether to compress names.</param>
    /// <returns>The bytes written.</returns>
    /// <exception cref="ArgumentException">The message cannot be encoded.</exception>
    public static int Write(DnsMessage message, IBufferWriter<byte> output, bool compressNames = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = GetLength(message, compressNames);
        Span<byte> span = output.GetSpan(length)[..length];
        var writer = new WireWriter(span, compressNames);
        writer.WriteMessage(message);
        output.Advance(length);
        return length;
    }

    /// <summary>Encodes a message into a new array.</summary>
    /// <param name="message">The message.</param>
    /// <param name="compressNames">Whether to compress names.</param>
    /// <returns>The encoded message.</returns>
    /// <exception cref="ArgumentException">The message cannot be encoded.</exception>
    public static byte[] ToArray(DnsMessage message, bool compressNames = true)
    {
        byte[] packet = new byte[GetLength(message, compressNames)];
        var writer = new WireWriter(packet, compressNames);
        writer.WriteMessage(message);
        return packet;
    }

    /// <summary>
    /// Writes into a span; once something does not fit, it stops copying but keeps counting, so one pass tells both
    /// whether the message fits and how long it is.
    /// </summary>
    private ref struct WireWriter(Span<byte> buffer, bool compressNames)
    {
        private readonly Span<byte> _buffer = buffer;

        // Offsets of name suffixes already written, for compression pointers.
        private readonly Dictionary<NameSuffix, int>? _suffixes = compressNames ? new Dictionary<NameSuffix, int>() : null;

        public int Position { get; private set; }

        public bool Overflowed { get; private set; }

        public void WriteMessage(DnsMessage message)
        {
            ArgumentNullException.ThrowIfNull(message);
            WriteUInt16(message.Id);
            WriteUInt16((ushort)message.Flags);
            WriteUInt16(Count(message.Questions.Count, "questions"));
            WriteUInt16(Count(message.Answers.Count, "answers"));
            WriteUInt16(Count(message.Authorities.Count, "authority records"));
            WriteUInt16(Count(message.Additionals.Count, "additional records"));
            foreach (DnsQuestion question in message.Questions)
            {
                WriteName(question.Name);
                WriteUInt16((ushort)question.Type);
                WriteUInt16(Class(question.Class, question.UnicastResponse));
            }

            WriteRecords(message.Answers);
            WriteRecords(message.Authorities);
            WriteRecords(message.Additionals);
        }

        private static ushort Count(int count, string section) =>
            count <= ushort.MaxValue
                ? (ushort)count
                : throw new ArgumentException($"A DNS message holds at most {ushort.MaxValue} {section}, not {count}.");

        private static ushort Class(DnsClass @class, bool topBit) =>
            (ushort)@class <= 0x7FFF
                ? (ushort)((ushort)@class | (topBit ? 0x8000 : 0))
                : throw new ArgumentException($"Class {(ushort)@class} does not fit 15 bits; the top bit is a flag in mDNS.");

        private void WriteRecords(IReadOnlyList<DnsRecord> records)
        {
            foreach (DnsRecord record in records)
            {
                WriteName(record.Name);
                WriteUInt16((ushort)record.Type);
                WriteUInt16(Class(record.Class, record.CacheFlush));
                WriteUInt32(record.Ttl);
                int lengthAt = Position;
                WriteUInt16(0);
                WriteData(record.Data);
                int length = Position - lengthAt - 2;
                if (length > ushort.MaxValue)
                {
                    throw new ArgumentException($"The data of a {record.Type.ToMnemonic()} record takes {length} bytes; RDLENGTH holds at most {ushort.MaxValue}.");
                }

                if (lengthAt + 2 <= _buffer.Length)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(_buffer[lengthAt..], (ushort)length);
                }
            }
        }

        private void WriteData(DnsRecordData data)
        {
            switch (data)
            {
                case DnsPtrData ptr:
                    WriteName(ptr.Target);
                    break;
                case DnsSrvData srv:
                    WriteUInt16(srv.Priority);
                    WriteUInt16(srv.Weight);
                    WriteUInt16(srv.Port);
                    WriteName(srv.Target);
                    break;
                case DnsTxtData txt:
                    foreach (ReadOnlyMemory<byte> s in txt.Strings)
                    {
                        WriteByte((byte)s.Length);
                        WriteBytes(s.Span);
                    }

                    break;
                case DnsAddressData address:
                    // 4 bytes for IPv4, 16 for IPv6 (without the scope id).
                    Span<byte> bytes = stackalloc byte[16];
                    address.Address.TryWriteBytes(bytes, out int written);
                    WriteBytes(bytes[..written]);
                    break;
                case DnsNsecData nsec:
                    WriteName(nsec.NextDomainName);
                    WriteTypeBitmaps(nsec.Types);
                    break;
                case DnsUnknownData unknown:
                    WriteBytes(unknown.Data.Span);
                    break;
                default:
                    throw new ArgumentException($"Unsupported record data {data.GetType().Name}.");
            }
        }

        // RFC 4034 §4.1.2: per 256-type window that has types, the window number, the bitmap length (trailing zero
        // bytes left out) and the bitmap, most significant bit first. Types are ascending and distinct.
        private void WriteTypeBitmaps(IReadOnlyList<DnsRecordType> types)
        {
            Span<byte> bitmap = stackalloc byte[32];
            int index = 0;
            while (index < types.Count)
            {
                int window = (ushort)types[index] >> 8;
                bitmap.Clear();
                int length = 0;
                for (; index < types.Count && (ushort)types[index] >> 8 == window; index++)
                {
                    int low = (ushort)types[index] & 0xFF;
                    bitmap[low >> 3] |= (byte)(0x80 >> (low & 7));
                    length = (low >> 3) + 1;
                }

                WriteByte((byte)window);
                WriteByte((byte)length);
                WriteBytes(bitmap[..length]);
            }
        }

        private void WriteName(DnsName name)
        {
            ReadOnlySpan<byte> wire = name.WireForm;
            int offset = 0;
            while (wire[offset] != 0)
            {
                if (_suffixes is not null)
                {
                    var suffix = new NameSuffix(name, offset);
                    if (_suffixes.TryGetValue(suffix, out int target))
                    {
                        WriteUInt16((ushort)(0xC000 | target));
                        return;
                    }

                    if (Position <= MaxPointerOffset)
                    {
                        _suffixes.Add(suffix, Position);
                    }
                }

                int labelLength = wire[offset] + 1;
                WriteBytes(wire.Slice(offset, labelLength));
                offset += labelLength;
            }

            WriteByte(0);
        }

        private void WriteByte(byte value)
        {
            if (Reserve(1))
            {
                _buffer[Position] = value;
            }

            Position++;
        }

        private void WriteUInt16(ushort value)
        {
            if (Reserve(2))
            {
                BinaryPrimitives.WriteUInt16BigEndian(_buffer[Position..], value);
            }

            Position += 2;
        }

        private void WriteUInt32(uint value)
        {
            if (Reserve(4))
            {
                BinaryPrimitives.WriteUInt32BigEndian(_buffer[Position..], value);
            }

            Position += 4;
        }

        private void WriteBytes(scoped ReadOnlySpan<byte> value)
        {
            if (Reserve(value.Length))
            {
                value.CopyTo(_buffer[Position..]);
            }

            Position += value.Length;
        }

        private bool Reserve(int count)
        {
            if (!Overflowed && _buffer.Length - Position < count)
            {
                Overflowed = true;
            }

            return !Overflowed;
        }
    }

    /// <summary>A name from one of its labels on, compared byte for byte (so compression never changes case).</summary>
    private readonly struct NameSuffix(DnsName name, int offset) : IEquatable<NameSuffix>
    {
        private readonly DnsName _name = name;
        private readonly int _offset = offset;

        private ReadOnlySpan<byte> Bytes => _name.WireForm[_offset..];

        public bool Equals(NameSuffix other) => Bytes.SequenceEqual(other.Bytes);

        public override bool Equals(object? obj) => obj is NameSuffix other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.AddBytes(Bytes);
            return hash.ToHashCode();
        }
    }
}
