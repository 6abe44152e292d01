using System.Diagnostics.CodeAnalysis;
using Ataraxia.Cbor;

namespace Ataraxia;

/// <summary>An application message received from a node of the mesh.</summary>
/// <remarks>The payload is kept as received and decoded on first use.</remarks>
public sealed class Message
{
    private CborValue? _data;

    internal Message(Node source, string type, ReadOnlyMemory<byte> rawData)
    {
        Source = source;
        Type = type;
        RawData = rawData;
    }

    /// <summary>Gets the node that sent the message.</summary>
    public Node Source { get; }

    /// <summary>Gets the message type chosen by the sender. Types starting with <c>at:</c> belong to Ataraxia.</summary>
    public string Type { get; }

    /// <summary>Gets the payload as received: exactly one CBOR item.</summary>
    public ReadOnlyMemory<byte> RawData { get; }

    /// <summary>Gets the payload as a CBOR value.</summary>
    /// <exception cref="CborException">The payload is not exactly one valid CBOR item.</exception>
    public CborValue Data => _data ??= CborValue.Decode(RawData.Span);

    /// <summary>Maps the payload to a .NET type (records and classes by camelCase property names, collections, primitives).</summary>
    /// <typeparam name="T">The type to map to.</typeparam>
    /// <returns>The mapped value.</returns>
    /// <exception cref="CborException">The payload does not fit <typeparamref name="T"/>.</exception>
    [RequiresUnreferencedCode("Maps by reflection over the public properties of T.")]
    [RequiresDynamicCode("Maps by reflection over the public properties of T.")]
    public T? GetData<T>() => CborSerializer.FromValue<T>(Data);

    /// <inheritdoc />
    public override string ToString() => $"{Type} from {Source.Id}";
}
