using System.Diagnostics;

namespace Ataraxia.Internal;

/// <summary>
/// The activities of service calls (<see cref="Services.ActivitySourceName"/>): one of kind client per request sent to a
/// provider, one of kind server per call this node runs for another node. Names and tags are public contract: the root
/// README lists them.
/// </summary>
/// <remarks>
/// The wire format of services (shared with JavaScript) has no field for trace context, so a server activity is not a
/// child of the client activity on the calling node; both carry the caller, the provider and the call id instead.
/// Nothing is allocated unless a listener samples the source.
/// </remarks>
internal static class ServicesTelemetry
{
    public const string RpcSystemTag = "rpc.system";
    public const string RpcServiceTag = "rpc.service";
    public const string RpcMethodTag = "rpc.method";
    public const string ProviderTag = "ataraxia.service.provider";
    public const string CallerTag = "ataraxia.service.caller";
    public const string CallIdTag = "ataraxia.service.call_id";
    public const string NetworkTag = "ataraxia.network";
    public const string ErrorTypeTag = "error.type";

    /// <summary>The value of <c>rpc.system</c>.</summary>
    public const string RpcSystem = "ataraxia";

    public static readonly ActivitySource Source = new(
        Services.ActivitySourceName,
        typeof(ServicesTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the activity of a call this node makes, or returns <see langword="null"/> when nobody samples it.</summary>
    public static Activity? StartClient(Network network, NodeId provider, string service, string method)
    {
        return Source.StartActivity(
            ActivityKind.Client,
            tags:
            [
                new(RpcSystemTag, RpcSystem),
                new(RpcServiceTag, service),
                new(RpcMethodTag, method),
                new(ProviderTag, provider.ToString()),
                new(CallerTag, network.Id.ToString()),
                new(NetworkTag, network.Name),
            ],
            name: $"{service}/{method}");
    }

    /// <summary>Starts the activity of a call this node runs for <paramref name="caller"/>, or returns <see langword="null"/> when nobody listens.</summary>
    public static Activity? StartServer(Network network, NodeId caller, long callId, string service, string method)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        return Source.StartActivity(
            ActivityKind.Server,
            tags:
            [
                new(RpcSystemTag, RpcSystem),
                new(RpcServiceTag, service),
                new(RpcMethodTag, method),
                new(ProviderTag, network.Id.ToString()),
                new(CallerTag, caller.ToString()),
                new(CallIdTag, callId),
                new(NetworkTag, network.Name),
            ],
            name: $"{service}/{method}");
    }

    /// <summary>Marks an activity failed by <paramref name="exception"/>: error status, <c>error.type</c> and an exception event.</summary>
    public static void SetError(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag(ErrorTypeTag, exception is ServiceCallException call ? call.Failure.ToString() : exception.GetType().FullName);
        activity.AddException(exception);
    }

    /// <summary>Marks an activity failed without an exception (the error is only a reply), with <c>error.type</c> <paramref name="errorType"/>.</summary>
    public static void SetError(Activity? activity, string errorType, string description)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, description);
        activity.SetTag(ErrorTypeTag, errorType);
    }
}
