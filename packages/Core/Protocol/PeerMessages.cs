using Ataraxia.Cbor;

namespace Ataraxia.Protocol;

/// <summary>
/// A message of the Ataraxia peer protocol: a CBOR sequence of a tag followed by the fields of the message
/// in a fixed order (WIRE.md §3). Instances are immutable.
/// </summary>
/// <remarks>Use <see cref="PeerMessageCodec"/> to encode and decode messages.</remarks>
public abstract class PeerMessage
{
    private protected PeerMessage()
    {
    }

    /// <summary>Gets the tag of this message.</summary>
    public abstract PeerMessageType Type { get; }

    /// <summary>Gets a value indicating whether this message belongs to negotiation (HELLO … BEGIN).</summary>
    public bool IsNegotiation => Type is >= PeerMessageType.Ok and <= PeerMessageType.Begin;

    internal abstract int GetFieldsLength();

    internal abstract void WriteFields(CborWriter writer);

    /// <summary>
    /// Writes the fields straight into a span that is known to be large enough (the hot path of DATA and its
    /// answers: no call per field into the output buffer); returns the bytes written, or −1 where the message type
    /// has no such path.
    /// </summary>
    internal virtual int WriteFields(Span<byte> destination) => -1;

    internal static int NodeIdLength(NodeId id) => CborWriter.GetByteStringLength(id.Length);

    internal static void WriteNodeId(CborWriter writer, NodeId id)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (id.TryCopyTo(bytes) && id.Length == 16)
        {
            writer.WriteByteString(bytes);
        }
        else
        {
            writer.WriteByteString(id.ToByteArray());
        }
    }

    /// <inheritdoc />
    public override string ToString() => Type.ToString();
}

/// <summary>A message without fields: PING, PONG, OK, REJECT, BEGIN or BYE.</summary>
public sealed class PeerSignal : PeerMessage
{
    private readonly PeerMessageType _type;

    private PeerSignal(PeerMessageType type) => _type = type;

    /// <summary>Gets the PING message.</summary>
    public static PeerSignal Ping { get; } = new(PeerMessageType.Ping);

    /// <summary>Gets the PONG message.</summary>
    public static PeerSignal Pong { get; } = new(PeerMessageType.Pong);

    /// <summary>Gets the OK message.</summary>
    public static PeerSignal Ok { get; } = new(PeerMessageType.Ok);

    /// <summary>Gets the REJECT message. It carries no reason on the wire.</summary>
    public static PeerSignal Reject { get; } = new(PeerMessageType.Reject);

    /// <summary>Gets the BEGIN message.</summary>
    public static PeerSignal Begin { get; } = new(PeerMessageType.Begin);

    /// <summary>Gets the BYE message.</summary>
    public static PeerSignal Bye { get; } = new(PeerMessageType.Bye);

    /// <inheritdoc />
    public override PeerMessageType Type => _type;

    internal override int GetFieldsLength() => 0;

    internal override void WriteFields(CborWriter writer)
    {
    }
}

/// <summary>HELLO (server → client) or SELECT (client → server): the sender's node id and capabilities.</summary>
public sealed class PeerIdentify : PeerMessage
{
    private readonly PeerMessageType _type;

    /// <summary>Creates a HELLO or SELECT message.</summary>
    /// <param name="type"><see cref="PeerMessageType.Hello"/> or <see cref="PeerMessageType.Select"/>.</param>
    /// <param name="id">The sender's node id.</param>
    /// <param name="capabilities">Capability strings; JavaScript 0.12 sends and expects none.</param>
    public PeerIdentify(PeerMessageType type, NodeId id, IReadOnlyList<string>? capabilities = null)
    {
        if (type is not (PeerMessageType.Hello or PeerMessageType.Select))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Must be Hello or Select.");
        }

        _type = type;
        Id = id;
        Capabilities = capabilities ?? [];
    }

    /// <summary>Gets the sender's node id.</summary>
    public NodeId Id { get; }

    /// <summary>Gets the capability strings.</summary>
    public IReadOnlyList<string> Capabilities { get; }

    /// <inheritdoc />
    public override PeerMessageType Type => _type;

    internal override int GetFieldsLength()
    {
        int length = NodeIdLength(Id) + CborWriter.GetHeadLength((ulong)Capabilities.Count);
        foreach (string capability in Capabilities)
        {
            length += CborWriter.GetTextStringLength(capability);
        }

        return length;
    }

    internal override void WriteFields(CborWriter writer)
    {
        WriteNodeId(writer, Id);
        writer.WriteUInt64((ulong)Capabilities.Count);
        foreach (string capability in Capabilities)
        {
            writer.WriteTextString(capability);
        }
    }
}

/// <summary>AUTH: the client starts authentication with a method and its initial data.</summary>
/// <param name="method">The provider id, for example <c>anonymous</c> or <c>shared-secret</c>.</param>
/// <param name="data">The provider's initial data.</param>
public sealed class PeerAuth(string method, ReadOnlyMemory<byte> data) : PeerMessage
{
    /// <summary>Gets the provider id.</summary>
    public string Method { get; } = method ?? throw new ArgumentNullException(nameof(method));

    /// <summary>Gets the provider's initial data.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;

    /// <inheritdoc />
    public override PeerMessageType Type => PeerMessageType.Auth;

    internal override int GetFieldsLength() => CborWriter.GetTextStringLength(Method) + CborWriter.GetByteStringLength(Data.Length);

    internal override void WriteFields(CborWriter writer)
    {
        writer.WriteTextString(Method);
        writer.WriteByteString(Data.Span);
    }
}

/// <summary>AUTH_DATA: one round of provider-specific authentication data.</summary>
/// <param name="data">The data.</param>
public sealed class PeerAuthData(ReadOnlyMemory<byte> data) : PeerMessage
{
    /// <summary>Gets the data.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;

    /// <inheritdoc />
    public override PeerMessageType Type => PeerMessageType.AuthData;

    internal override int GetFieldsLength() => CborWriter.GetByteStringLength(Data.Length);

    internal override void WriteFields(CborWriter writer) => writer.WriteByteString(Data.Span);
}

/// <summary>DATA_ACK or DATA_REJECT for the message id the receiver used on the previous hop.</summary>
public sealed class PeerDataResult : PeerMessage
{
    private readonly PeerMessageType _type;

    /// <summary>Creates a DATA_ACK or DATA_REJECT.</summary>
    /// <param name="type"><see cref="PeerMessageType.DataAck"/> or <see cref="PeerMessageType.DataReject"/>.</param>
    /// <param name="id">The id from the last path entry of the DATA being answered.</param>
    public PeerDataResult(PeerMessageType type, ulong id)
    {
        if (type is not (PeerMessageType.DataAck or PeerMessageType.DataReject))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Must be DataAck or DataReject.");
        }

        _type = type;
        Id = id;
    }

    /// <summary>Gets the message id being answered.</summary>
    public ulong Id { get; }

    /// <inheritdoc />
    public override PeerMessageType Type => _type;

    internal override int GetFieldsLength() => CborWriter.GetHeadLength(Id);

    internal override void WriteFields(CborWriter writer) => writer.WriteUInt64(Id);

    internal override int WriteFields(Span<byte> destination) => CborWriter.WriteHead(destination, CborMajorType.UnsignedInteger, Id);
}

/// <summary>One hop of a DATA message's path: the node and the message id it used on its outgoing hop.</summary>
/// <param name="Node">The node that sent the message on.</param>
/// <param name="Id">The id that node used towards the next hop.</param>
public readonly record struct PeerPathEntry(NodeId Node, ulong Id);

/// <summary>DATA: application data on its way to <see cref="Target"/> (field order: target, type, data, path).</summary>
/// <param name="target">The destination node.</param>
/// <param name="dataType">The application message type.</param>
/// <param name="data">The payload: exactly one CBOR item.</param>
/// <param name="path">The nodes the message passed through, originator first.</param>
public sealed class PeerData(NodeId target, string dataType, ReadOnlyMemory<byte> data, IReadOnlyList<PeerPathEntry> path) : PeerMessage
{
    /// <summary>Gets the destination node.</summary>
    public NodeId Target { get; } = target;

    /// <summary>Gets the application message type.</summary>
    public string DataType { get; } = dataType ?? throw new ArgumentNullException(nameof(dataType));

    /// <summary>Gets the payload.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;

    /// <summary>Gets the path, originator first; the last entry is the previous hop.</summary>
    public IReadOnlyList<PeerPathEntry> Path { get; } = path ?? throw new ArgumentNullException(nameof(path));

    /// <inheritdoc />
    public override PeerMessageType Type => PeerMessageType.Data;

    internal override int GetFieldsLength()
    {
        int length = NodeIdLength(Target) + CborWriter.GetTextStringLength(DataType) + CborWriter.GetByteStringLength(Data.Length)
            + CborWriter.GetHeadLength((ulong)Path.Count);
        for (int i = 0; i < Path.Count; i++)
        {
            length += NodeIdLength(Path[i].Node) + CborWriter.GetHeadLength(Path[i].Id);
        }

        return length;
    }

    internal override int WriteFields(Span<byte> destination)
    {
        int written = SpanCbor.WriteNodeId(destination, Target);
        written += SpanCbor.WriteText(destination[written..], DataType);
        written += SpanCbor.WriteBytes(destination[written..], Data.Span);
        written += CborWriter.WriteHead(destination[written..], CborMajorType.UnsignedInteger, (ulong)Path.Count);
        for (int i = 0; i < Path.Count; i++)
        {
            PeerPathEntry entry = Path[i];
            written += SpanCbor.WriteNodeId(destination[written..], entry.Node);
            written += CborWriter.WriteHead(destination[written..], CborMajorType.UnsignedInteger, entry.Id);
        }

        return written;
    }

    internal override void WriteFields(CborWriter writer)
    {
        WriteNodeId(writer, Target);
        writer.WriteTextString(DataType);
        writer.WriteByteString(Data.Span);
        writer.WriteUInt64((ulong)Path.Count);
        for (int i = 0; i < Path.Count; i++)
        {
            WriteNodeId(writer, Path[i].Node);
            writer.WriteUInt64(Path[i].Id);
        }
    }
}

/// <summary>A node and its routing version, as listed in NODE_SUMMARY.</summary>
/// <param name="Id">The node.</param>
/// <param name="Version">Its version as known by the sender.</param>
public readonly record struct NodeVersion(NodeId Id, ulong Version);

/// <summary>NODE_SUMMARY: the sender's own version and the versions of the nodes it knows.</summary>
/// <param name="ownVersion">The sender's own routing version.</param>
/// <param name="nodes">Known nodes and their versions.</param>
public sealed class PeerNodeSummary(ulong ownVersion, IReadOnlyList<NodeVersion> nodes) : PeerMessage
{
    /// <summary>Gets the sender's own routing version.</summary>
    public ulong OwnVersion { get; } = ownVersion;

    /// <summary>Gets the known nodes and their versions.</summary>
    public IReadOnlyList<NodeVersion> Nodes { get; } = nodes ?? throw new ArgumentNullException(nameof(nodes));

    /// <inheritdoc />
    public override PeerMessageType Type => PeerMessageType.NodeSummary;

    internal override int GetFieldsLength()
    {
        int length = CborWriter.GetHeadLength(OwnVersion) + CborWriter.GetHeadLength((ulong)Nodes.Count);
        for (int i = 0; i < Nodes.Count; i++)
        {
            length += NodeIdLength(Nodes[i].Id) + CborWriter.GetHeadLength(Nodes[i].Version);
        }

        return length;
    }

    internal override void WriteFields(CborWriter writer)
    {
        writer.WriteUInt64(OwnVersion);
        writer.WriteUInt64((ulong)Nodes.Count);
        for (int i = 0; i < Nodes.Count; i++)
        {
            WriteNodeId(writer, Nodes[i].Id);
            writer.WriteUInt64(Nodes[i].Version);
        }
    }
}

/// <summary>NODE_REQUEST: asks for the details of the listed nodes.</summary>
/// <param name="nodes">The nodes.</param>
public sealed class PeerNodeRequest(IReadOnlyList<NodeId> nodes) : PeerMessage
{
    /// <summary>Gets the requested nodes.</summary>
    public IReadOnlyList<NodeId> Nodes { get; } = nodes ?? throw new ArgumentNullException(nameof(nodes));

    /// <inheritdoc />
    public override PeerMessageType Type => PeerMessageType.NodeRequest;

    internal override int GetFieldsLength()
    {
        int length = CborWriter.GetHeadLength((ulong)Nodes.Count);
        for (int i = 0; i < Nodes.Count; i++)
        {
            length += NodeIdLength(Nodes[i]);
        }

        return length;
    }

    internal override void WriteFields(CborWriter writer)
    {
        writer.WriteUInt64((ulong)Nodes.Count);
        for (int i = 0; i < Nodes.Count; i++)
        {
            WriteNodeId(writer, Nodes[i]);
        }
    }
}

/// <summary>A neighbour of a node and the latency of the link, in whole milliseconds.</summary>
/// <param name="Id">The neighbour.</param>
/// <param name="Latency">The link latency in milliseconds.</param>
public readonly record struct NodeNeighbour(NodeId Id, ulong Latency);

/// <summary>The details of one node in NODE_DETAILS.</summary>
/// <param name="Id">The node.</param>
/// <param name="Version">Its routing version.</param>
/// <param name="Neighbours">Its direct neighbours with latencies.</param>
public sealed record NodeDetails(NodeId Id, ulong Version, IReadOnlyList<NodeNeighbour> Neighbours);

/// <summary>NODE_DETAILS: neighbours and latencies of some nodes.</summary>
/// <param name="nodes">The node entries.</param>
public sealed class PeerNodeDetails(IReadOnlyList<NodeDetails> nodes) : PeerMessage
{
    /// <summary>Gets the node entries.</summary>
    public IReadOnlyList<NodeDetails> Nodes { get; } = nodes ?? throw new ArgumentNullException(nameof(nodes));

    /// <inheritdoc />
    public override PeerMessageType Type => PeerMessageType.NodeDetails;

    internal override int GetFieldsLength()
    {
        int length = CborWriter.GetHeadLength((ulong)Nodes.Count);
        for (int i = 0; i < Nodes.Count; i++)
        {
            NodeDetails node = Nodes[i];
            length += NodeIdLength(node.Id) + CborWriter.GetHeadLength(node.Version) + CborWriter.GetHeadLength((ulong)node.Neighbours.Count);
            for (int j = 0; j < node.Neighbours.Count; j++)
            {
                length += NodeIdLength(node.Neighbours[j].Id) + CborWriter.GetHeadLength(node.Neighbours[j].Latency);
            }
        }

        return length;
    }

    internal override void WriteFields(CborWriter writer)
    {
        writer.WriteUInt64((ulong)Nodes.Count);
        for (int i = 0; i < Nodes.Count; i++)
        {
            NodeDetails node = Nodes[i];
            WriteNodeId(writer, node.Id);
            writer.WriteUInt64(node.Version);
            writer.WriteUInt64((ulong)node.Neighbours.Count);
            for (int j = 0; j < node.Neighbours.Count; j++)
            {
                WriteNodeId(writer, node.Neighbours[j].Id);
                writer.WriteUInt64(node.Neighbours[j].Latency);
            }
        }
    }
}
