namespace Ataraxia;

/// <summary>A node that offers a service.</summary>
/// <param name="Node">The node id.</param>
/// <param name="Definition">What the node says the service offers.</param>
/// <param name="IsLocal">Whether the service is registered on this node.</param>
public sealed record ServiceInstance(NodeId Node, ServiceDefinition Definition, bool IsLocal);

/// <summary>Data of <see cref="Services.ServiceAvailable"/>, <see cref="Services.ServiceUnavailable"/> and the events of <see cref="ServiceReference"/>.</summary>
/// <param name="service">The service.</param>
/// <param name="provider">The node whose arrival or departure changed the availability.</param>
public sealed class ServiceEventArgs(ServiceReference service, NodeId provider) : EventArgs
{
    /// <summary>Gets the service.</summary>
    public ServiceReference Service { get; } = service;

    /// <summary>Gets the node whose arrival or departure changed the availability.</summary>
    public NodeId Provider { get; } = provider;
}

/// <summary>The answer of one provider to <see cref="ServiceReference.CallAllAsync{T}(string, IReadOnlyList{object?}, TimeSpan, CancellationToken)"/>.</summary>
/// <typeparam name="T">The result type.</typeparam>
/// <param name="Node">The provider.</param>
/// <param name="Value">The result, when the call succeeded.</param>
/// <param name="Error">The failure, when it did not.</param>
public sealed record ServiceReply<T>(NodeId Node, T? Value, ServiceCallException? Error)
{
    /// <summary>Gets a value indicating whether the provider answered with a result.</summary>
    public bool Succeeded => Error is null;
}

/// <summary>What every provider answered to a call made to all of them.</summary>
/// <typeparam name="T">The result type.</typeparam>
/// <param name="Replies">The answers (results and errors) that arrived before the deadline, in order of arrival.</param>
/// <param name="NotAnswered">The providers that had not answered by the deadline.</param>
public sealed record ServiceCallAllResult<T>(IReadOnlyList<ServiceReply<T>> Replies, IReadOnlyList<NodeId> NotAnswered);
