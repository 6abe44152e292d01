using System.Diagnostics.CodeAnalysis;
using Ataraxia.Cbor;

namespace Ataraxia;

/// <summary>A node of the mesh that is (or was) reachable from the local node.</summary>
/// <remarks>
/// A node object lives for one period of availability: when the node becomes unreachable,
/// <see cref="IsAvailable"/> turns false for good, and a later return produces a new object.
/// </remarks>
public sealed class Node
{
    private readonly Network _network;
    private volatile bool _available = true;

    internal Node(Network network, NodeId id)
    {
        _network = network;
        Id = id;
    }

    /// <summary>Gets the node's id.</summary>
    public NodeId Id { get; }

    /// <summary>Gets a value indicating whether the node is currently reachable.</summary>
    public bool IsAvailable => _available;

    /// <summary>Sends a message to the node and waits until the first hop accepted it.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload; <see langword="null"/> sends CBOR null.</param>
    /// <param name="cancellationToken">Cancels waiting for the acknowledgement (the message may still arrive).</param>
    /// <returns>A task that completes when the next hop acknowledged the message.</returns>
    /// <exception cref="MessageDeliveryException">No route, the next hop rejected the message, or it timed out.</exception>
    public ValueTask SendAsync(string type, CborValue? data = null, CancellationToken cancellationToken = default) =>
        _network.SendAsync(Id, type, data ?? CborValue.Null, cancellationToken);

    /// <summary>Sends a message whose payload is already CBOR-encoded (exactly one well-formed item, sent as given).</summary>
    /// <param name="type">The message type.</param>
    /// <param name="encodedPayload">The encoded payload.</param>
    /// <param name="cancellationToken">Cancels waiting for the acknowledgement.</param>
    /// <returns>A task that completes when the next hop acknowledged the message.</returns>
    /// <exception cref="ArgumentException">The payload is not exactly one well-formed CBOR item.</exception>
    /// <exception cref="MessageDeliveryException">No route, the next hop rejected the message, or it timed out.</exception>
    public ValueTask SendEncodedAsync(string type, ReadOnlyMemory<byte> encodedPayload, CancellationToken cancellationToken = default) =>
        _network.SendEncodedAsync(Id, type, encodedPayload, cancellationToken);

    /// <summary>Sends a message whose payload is mapped from a .NET value.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels waiting for the acknowledgement.</param>
    /// <returns>A task that completes when the next hop acknowledged the message.</returns>
    /// <exception cref="MessageDeliveryException">No route, the next hop rejected the message, or it timed out.</exception>
    [RequiresUnreferencedCode("Maps by reflection over the public properties of T.")]
    [RequiresDynamicCode("Maps by reflection over the public properties of T.")]
    public ValueTask SendAsync<T>(string type, T data, CancellationToken cancellationToken = default) =>
        _network.SendAsync(Id, type, CborSerializer.ToValue(data), cancellationToken);

    /// <inheritdoc />
    public override string ToString() => Id.ToString();

    internal void MarkUnavailable() => _available = false;
}

/// <summary>Event data naming a node.</summary>
/// <param name="node">The node.</param>
public sealed class NodeEventArgs(Node node) : EventArgs
{
    /// <summary>Gets the node.</summary>
    public Node Node { get; } = node;
}

/// <summary>Event data carrying a received message.</summary>
/// <param name="message">The message.</param>
public sealed class MessageEventArgs(Message message) : EventArgs
{
    /// <summary>Gets the message.</summary>
    public Message Message { get; } = message;
}

/// <summary>Why a message could not be handed to the next hop.</summary>
public enum MessageDeliveryFailure
{
    /// <summary>The target is not reachable.</summary>
    NoRoute,

    /// <summary>The next hop answered DATA_REJECT: it could not forward the message.</summary>
    Rejected,

    /// <summary>The next hop did not answer within the acknowledgement timeout.</summary>
    Timeout,

    /// <summary>The connection to the next hop closed before it answered.</summary>
    ConnectionClosed,
}

/// <summary>Thrown when a message could not be handed to the next hop.</summary>
public sealed class MessageDeliveryException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public MessageDeliveryException()
        : base("The message could not be delivered.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public MessageDeliveryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public MessageDeliveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a failure.</summary>
    /// <param name="target">The node the message was for.</param>
    /// <param name="failure">What went wrong.</param>
    public MessageDeliveryException(NodeId target, MessageDeliveryFailure failure)
        : base(failure switch
        {
            MessageDeliveryFailure.NoRoute => $"No route to node {target}.",
            MessageDeliveryFailure.Rejected => $"The next hop could not forward the message to node {target}.",
            MessageDeliveryFailure.Timeout => $"The next hop did not acknowledge the message to node {target} in time.",
            _ => $"The connection to the next hop closed before it acknowledged the message to node {target}.",
        })
    {
        Target = target;
        Failure = failure;
    }

    /// <summary>Gets the node the message was for.</summary>
    public NodeId Target { get; }

    /// <summary>Gets what went wrong.</summary>
    public MessageDeliveryFailure Failure { get; }
}
