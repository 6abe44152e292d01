using Ataraxia.Cbor;

namespace Ataraxia.Internal;

/// <summary>A call sent to another node that waits for its <c>invoke-reply</c>.</summary>
internal sealed class PendingCall(long id, NodeId provider, string service, string method, long deadline)
{
    private readonly TaskCompletionSource<CborValue> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Id { get; } = id;

    public NodeId Provider { get; } = provider;

    public string Service { get; } = service;

    public string Method { get; } = method;

    /// <summary>Gets the timestamp (of the services' time provider) after which the call times out.</summary>
    public long Deadline { get; } = deadline;

    public Task<CborValue> Task => _result.Task;

    public bool TrySetResult(CborValue value) => _result.TrySetResult(value);

    public bool TrySetException(Exception exception) => _result.TrySetException(exception);

    public bool TrySetCanceled(CancellationToken cancellationToken) => _result.TrySetCanceled(cancellationToken);

    public ServiceCallException Failure(ServiceCallFailure failure, string message, Exception? inner = null) =>
        new(failure, Service, Method, Provider, message, inner);
}
