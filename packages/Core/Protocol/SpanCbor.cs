using System.Text;
using Ataraxia.Cbor;

namespace Ataraxia.Protocol;

/// <summary>CBOR items written into a span that is known to be large enough (the lengths were computed before).</summary>
internal static class SpanCbor
{
    /// <summary>Writes a node id as a byte string.</summary>
    public static int WriteNodeId(Span<byte> destination, NodeId id)
    {
        int head = CborWriter.WriteHead(destination, CborMajorType.ByteString, (ulong)id.Length);
        id.TryCopyTo(destination[head..]);
        return head + id.Length;
    }

    /// <summary>Writes a byte string.</summary>
    public static int WriteBytes(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        int head = CborWriter.WriteHead(destination, CborMajorType.ByteString, (ulong)value.Length);
        value.CopyTo(destination[head..]);
        return head + value.Length;
    }

    /// <summary>Writes a text string that was already validated (its encoded length was computed strictly).</summary>
    public static int WriteText(Span<byte> destination, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        int head = CborWriter.WriteHead(destination, CborMajorType.TextString, (ulong)length);
        return head + Encoding.UTF8.GetBytes(value, destination[head..]);
    }
}
