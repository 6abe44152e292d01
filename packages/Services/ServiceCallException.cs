namespace Ataraxia;

/// <summary>Why a service call failed.</summary>
public enum ServiceCallFailure
{
    /// <summary>The implementation threw; <see cref="ServiceCallException.RemoteMessage"/> has its message.</summary>
    RemoteError,

    /// <summary>No node offers the service (or no provider could be reached).</summary>
    NotAvailable,

    /// <summary>The provider left the mesh (or stopped its services) before it answered.</summary>
    ProviderLeft,

    /// <summary>No answer came within the call timeout.</summary>
    Timeout,

    /// <summary>An argument could not be mapped to CBOR.</summary>
    InvalidArgument,

    /// <summary>The result could not be mapped to the requested .NET type.</summary>
    InvalidResult,

    /// <summary>The request could not be delivered to the provider.</summary>
    DeliveryFailed,

    /// <summary>The local services were disposed.</summary>
    Disposed,
}

/// <summary>A service call failed: the remote implementation threw, the provider left, the call timed out, or a value could not be mapped.</summary>
public sealed class ServiceCallException : Exception
{
    /// <summary>Creates an exception.</summary>
    public ServiceCallException()
    {
        Service = string.Empty;
        Method = string.Empty;
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ServiceCallException(string message)
        : base(message)
    {
        Service = string.Empty;
        Method = string.Empty;
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ServiceCallException(string message, Exception innerException)
        : base(message, innerException)
    {
        Service = string.Empty;
        Method = string.Empty;
    }

    /// <summary>Creates an exception describing a failed call.</summary>
    /// <param name="failure">Why the call failed.</param>
    /// <param name="service">The service id.</param>
    /// <param name="method">The method name.</param>
    /// <param name="provider">The node that was asked, if one was chosen.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ServiceCallException(ServiceCallFailure failure, string service, string method, NodeId? provider, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        Service = service;
        Method = method;
        Provider = provider;
    }

    /// <summary>Gets why the call failed.</summary>
    public ServiceCallFailure Failure { get; }

    /// <summary>Gets the service id.</summary>
    public string Service { get; }

    /// <summary>Gets the method name.</summary>
    public string Method { get; }

    /// <summary>Gets the node that was asked, or <see langword="null"/> when none was chosen.</summary>
    public NodeId? Provider { get; }

    /// <summary>Gets the message of the remote exception, without the <c>(method `m` on `s`)</c> suffix JavaScript adds; <see langword="null"/> unless <see cref="Failure"/> is <see cref="ServiceCallFailure.RemoteError"/>.</summary>
    public string? RemoteMessage { get; init; }

    /// <summary>Gets the .NET type name of the remote exception when the provider is a .NET node, otherwise <see langword="null"/>.</summary>
    public string? RemoteType { get; init; }
}
