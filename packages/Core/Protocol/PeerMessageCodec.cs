using System.Buffers;
using System.Diagnostics;
using Ataraxia.Cbor;

namespace Ataraxia.Protocol;

/// <summary>
/// Encodes and decodes peer messages (WIRE.md §3) and stream frames (§4.1).
/// </summary>
/// <remarks>
/// Encoding writes straight into the output buffer and allocates nothing else. Decoding is strict about the
/// fields (an integer field must be an unsigned integer, a list count must not exceed what the message can hold)
/// and, like the JavaScript decoder, ignores bytes after the last field. Every malformed input raises
/// <see cref="ProtocolException"/>.
/// </remarks>
public static class PeerMessageCodec
{
    /// <summary>The largest frame length a stream header can express (2^32 − 1).</summary>
    public const long MaxEncodableFrameLength = uint.MaxValue;

    /// <summary>
    /// The longest node id accepted from a peer, in bytes. JavaScript nodes use 16; nothing on the wire limits
    /// the length, so a bound keeps hostile ids from costing memory and time in every table they enter.
    /// </summary>
    public const int MaxNodeIdLength = 64;

    // Frames up to this size are encoded into a single span of the output.
    private const int SmallFrameLength = 2048;

    /// <summary>Gets the encoded size of a message, without the frame header.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The number of bytes <see cref="Write"/> produces.</returns>
    public static int GetEncodedLength(PeerMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return 1 + message.GetFieldsLength();
    }

    /// <summary>Writes a message without frame header (the form used by message-based transports such as WebSocket).</summary>
    /// <param name="message">The message.</param>
    /// <param name="output">The destination.</param>
    public static void Write(PeerMessage message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(message);
        var writer = new CborWriter(output);
        writer.WriteUInt64((byte)message.Type);
        message.WriteFields(writer);
    }

    /// <summary>Writes a message as a stream frame: a CBOR-style length header followed by the message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="output">The destination.</param>
    /// <returns>The number of bytes written, header included.</returns>
    public static int WriteFrame(PeerMessage message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = GetEncodedLength(message);
        int total = CborWriter.GetHeadLength((ulong)length) + length;
        if (total <= SmallFrameLength)
        {
            // Small frames (most DATA and every answer) are written into one span: one GetSpan and one Advance.
            Span<byte> span = output.GetSpan(total);
            int written = CborWriter.WriteHead(span, CborMajorType.UnsignedInteger, (ulong)length);
            written += CborWriter.WriteHead(span[written..], CborMajorType.UnsignedInteger, (byte)message.Type);
            int fields = message.WriteFields(span[written..]);
            if (fields >= 0)
            {
                Debug.Assert(written + fields == total, "The encoded length and the bytes written disagree.");
                output.Advance(total);
                return total;
            }
        }

        new CborWriter(output).WriteHead(CborMajorType.UnsignedInteger, (ulong)length);
        Write(message, output);
        return total;
    }

    /// <summary>Encodes a message into a new array (convenience for tests and tools).</summary>
    /// <param name="message">The message.</param>
    /// <returns>The encoded message, without frame header.</returns>
    public static byte[] Encode(PeerMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(GetEncodedLength(message));
        Write(message, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Tries to take one complete frame off the front of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">Received bytes; advanced past the frame when one is returned.</param>
    /// <param name="maxFrameLength">The largest message length accepted.</param>
    /// <param name="message">The message bytes of the frame (without header).</param>
    /// <returns><see langword="true"/> when a whole frame was available; <see langword="false"/> when more bytes are needed.</returns>
    /// <exception cref="ProtocolException">The header is invalid, announces an empty message, or exceeds <paramref name="maxFrameLength"/>.</exception>
    /// <remarks>
    /// Like the JavaScript reader, only the low five bits of the first header byte are used; the major type bits
    /// are ignored. The length is checked against the limit as soon as the header is complete, before waiting
    /// for (or buffering) the rest of the frame.
    /// </remarks>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, long maxFrameLength, out ReadOnlySequence<byte> message)
    {
        message = default;
        if (buffer.IsEmpty)
        {
            return false;
        }

        // Copy the (at most five) header bytes out first: segments may be empty or split the header anywhere.
        Span<byte> header = stackalloc byte[5];
        int available = (int)Math.Min(buffer.Length, header.Length);
        buffer.Slice(0, available).CopyTo(header);
        int info = header[0] & 0x1f;
        int headerLength = info switch
        {
            < 24 => 1,
            24 => 2,
            25 => 3,
            26 => 5,
            _ => throw new ProtocolException($"Invalid frame header 0x{header[0]:x2}: the length needs more than 32 bits or is reserved."),
        };
        if (available < headerLength)
        {
            return false;
        }

        long length = info switch
        {
            < 24 => info,
            24 => header[1],
            25 => (header[1] << 8) | header[2],
            _ => ((long)header[1] << 24) | ((long)header[2] << 16) | ((long)header[3] << 8) | header[4],
        };
        if (length == 0)
        {
            throw new ProtocolException("Received an empty frame; every frame holds one message.");
        }

        if (length > maxFrameLength)
        {
            throw new FrameTooLargeException(length, maxFrameLength);
        }

        if (buffer.Length - headerLength < length)
        {
            return false;
        }

        message = buffer.Slice(headerLength, length);
        buffer = buffer.Slice(message.End);
        return true;
    }

    /// <summary>Decodes one message (without frame header).</summary>
    /// <param name="encoded">The message bytes.</param>
    /// <returns>The message.</returns>
    /// <exception cref="ProtocolException">The message is empty, truncated, has an unknown tag or a field of the wrong type.</exception>
    public static PeerMessage Decode(ReadOnlySpan<byte> encoded) => Decode(encoded, null);

    /// <summary>Decodes one message, reusing the strings in <paramref name="names"/> for DATA types seen before.</summary>
    internal static PeerMessage Decode(ReadOnlySpan<byte> encoded, TypeNameCache? names)
    {
        if (encoded.IsEmpty)
        {
            throw new ProtocolException("Empty peer message.");
        }

        var reader = new CborReader(encoded);
        ulong tag;
        try
        {
            tag = reader.ReadUInt64();
        }
        catch (CborException ex)
        {
            throw new ProtocolException($"Peer message does not start with a tag: {ex.Message}", ex);
        }

        if (tag > byte.MaxValue || !Enum.IsDefined((PeerMessageType)(byte)tag))
        {
            throw new UnknownMessageTypeException(tag);
        }

        var type = (PeerMessageType)(byte)tag;
        try
        {
            return DecodeFields(type, ref reader, names);
        }
        catch (CborException ex)
        {
            throw new ProtocolException($"Malformed {type} message: {ex.Message}", ex);
        }
    }

    /// <summary>Decodes one message from a possibly multi-segment buffer.</summary>
    /// <param name="encoded">The message bytes.</param>
    /// <returns>The message.</returns>
    /// <exception cref="ProtocolException">The message is malformed.</exception>
    public static PeerMessage Decode(in ReadOnlySequence<byte> encoded) => Decode(encoded, null);

    /// <summary>Decodes one message from a possibly multi-segment buffer, reusing known DATA type strings.</summary>
    internal static PeerMessage Decode(in ReadOnlySequence<byte> encoded, TypeNameCache? names)
    {
        if (encoded.IsSingleSegment)
        {
            return Decode(encoded.FirstSpan, names);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent((int)encoded.Length);
        try
        {
            encoded.CopyTo(rented);
            return Decode(rented.AsSpan(0, (int)encoded.Length), names);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static PeerMessage DecodeFields(PeerMessageType type, ref CborReader reader, TypeNameCache? names)
    {
        switch (type)
        {
            case PeerMessageType.Ping: return PeerSignal.Ping;
            case PeerMessageType.Pong: return PeerSignal.Pong;
            case PeerMessageType.Ok: return PeerSignal.Ok;
            case PeerMessageType.Reject: return PeerSignal.Reject;
            case PeerMessageType.Begin: return PeerSignal.Begin;
            case PeerMessageType.Bye: return PeerSignal.Bye;
            case PeerMessageType.DataAck:
            case PeerMessageType.DataReject:
                return new PeerDataResult(type, reader.ReadUInt64());
            case PeerMessageType.Hello:
            case PeerMessageType.Select:
            {
                NodeId id = ReadNodeId(ref reader);
                int count = ReadListCount(ref reader, 1);
                var capabilities = NewList<string>(count);
                for (int i = 0; i < count; i++)
                {
                    capabilities.Add(reader.ReadTextString());
                }

                return new PeerIdentify(type, id, capabilities);
            }

            case PeerMessageType.Auth:
            {
                string method = reader.ReadTextString();
                byte[] data = reader.ReadByteString().ToArray();
                return new PeerAuth(method, data);
            }

            case PeerMessageType.AuthData:
                return new PeerAuthData(reader.ReadByteString().ToArray());
            case PeerMessageType.Data:
            {
                NodeId target = ReadNodeId(ref reader);
                string dataType = names is null ? reader.ReadTextString() : names.Get(reader.ReadUtf8String());
                byte[] data = reader.ReadByteString().ToArray();
                int count = ReadListCount(ref reader, 2);
                if (count <= 64)
                {
                    // The usual case: an exact array, no list around it.
                    var entries = new PeerPathEntry[count];
                    for (int i = 0; i < count; i++)
                    {
                        entries[i] = new PeerPathEntry(ReadNodeId(ref reader), reader.ReadUInt64());
                    }

                    return new PeerData(target, dataType, data, entries);
                }

                var path = NewList<PeerPathEntry>(count);
                for (int i = 0; i < count; i++)
                {
                    path.Add(new PeerPathEntry(ReadNodeId(ref reader), reader.ReadUInt64()));
                }

                return new PeerData(target, dataType, data, path);
            }

            case PeerMessageType.NodeSummary:
            {
                ulong ownVersion = reader.ReadUInt64();
                int count = ReadListCount(ref reader, 2);
                var nodes = NewList<NodeVersion>(count);
                for (int i = 0; i < count; i++)
                {
                    nodes.Add(new NodeVersion(ReadNodeId(ref reader), reader.ReadUInt64()));
                }

                return new PeerNodeSummary(ownVersion, nodes);
            }

            case PeerMessageType.NodeRequest:
            {
                int count = ReadListCount(ref reader, 1);
                var nodes = NewList<NodeId>(count);
                for (int i = 0; i < count; i++)
                {
                    nodes.Add(ReadNodeId(ref reader));
                }

                return new PeerNodeRequest(nodes);
            }

            case PeerMessageType.NodeDetails:
            {
                int count = ReadListCount(ref reader, 3);
                var nodes = NewList<NodeDetails>(count);
                for (int i = 0; i < count; i++)
                {
                    NodeId id = ReadNodeId(ref reader);
                    ulong version = reader.ReadUInt64();
                    int neighbourCount = ReadListCount(ref reader, 2);
                    var neighbours = NewList<NodeNeighbour>(neighbourCount);
                    for (int j = 0; j < neighbourCount; j++)
                    {
                        neighbours.Add(new NodeNeighbour(ReadNodeId(ref reader), reader.ReadUInt64()));
                    }

                    nodes.Add(new NodeDetails(id, version, neighbours));
                }

                return new PeerNodeDetails(nodes);
            }

            default:
                throw new UnknownMessageTypeException((byte)type);
        }
    }

    private static NodeId ReadNodeId(ref CborReader reader)
    {
        int offset = reader.Position;
        ReadOnlySpan<byte> bytes = reader.ReadByteString();
        if (bytes.Length > MaxNodeIdLength)
        {
            throw new CborException($"Node id at offset {offset} has {bytes.Length} bytes; at most {MaxNodeIdLength} are accepted.");
        }

        return new NodeId(bytes);
    }

    // Lists grow with the entries actually read: a count that lies costs nothing until its entries arrive.
    private static List<T> NewList<T>(int count) => new(Math.Min(count, 64));

    // A list is written as a count followed by the items, each at least `minimumItemBytes` long, so a count that
    // cannot fit in the rest of the message is refused before anything is allocated for it.
    private static int ReadListCount(ref CborReader reader, int minimumItemBytes)
    {
        int offset = reader.Position;
        ulong count = reader.ReadUInt64();
        if (count > (ulong)(reader.BytesRemaining / minimumItemBytes))
        {
            throw new CborException($"List at offset {offset} announces {count} entries but only {reader.BytesRemaining} bytes remain.");
        }

        return (int)count;
    }
}

/// <summary>Thrown when a peer message starts with a tag that the protocol does not define.</summary>
public sealed class UnknownMessageTypeException : ProtocolException
{
    /// <summary>Creates the exception for a tag.</summary>
    /// <param name="tag">The unknown tag.</param>
    public UnknownMessageTypeException(ulong tag)
        : base($"Unknown peer message tag {tag}.")
    {
        Tag = tag;
    }

    /// <summary>Gets the unknown tag.</summary>
    public ulong Tag { get; }
}

/// <summary>Thrown when a frame header announces a message larger than the configured maximum.</summary>
public sealed class FrameTooLargeException : ProtocolException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="length">The announced length.</param>
    /// <param name="maximum">The configured maximum.</param>
    public FrameTooLargeException(long length, long maximum)
        : base($"Frame of {length} bytes exceeds the maximum frame size of {maximum} bytes.")
    {
        Length = length;
        Maximum = maximum;
    }

    /// <summary>Gets the announced length.</summary>
    public long Length { get; }

    /// <summary>Gets the configured maximum.</summary>
    public long Maximum { get; }
}
