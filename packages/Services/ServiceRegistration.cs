using System.Diagnostics.CodeAnalysis;
using Ataraxia.Internal;

namespace Ataraxia;

/// <summary>A service registered on this node; disposing it withdraws the service from the mesh.</summary>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
public sealed class ServiceRegistration : IDisposable, IAsyncDisposable
{
    private readonly Services _services;
    private readonly LocalService _local;
    private int _disposed;

    internal ServiceRegistration(Services services, LocalService local)
    {
        _services = services;
        _local = local;
    }

    /// <summary>Gets the service id.</summary>
    public string Id => _local.Id;

    /// <summary>Gets the definition other nodes see.</summary>
    public ServiceDefinition Definition => _local.Definition;

    /// <summary>Gets the nodes subscribed to an event of this service (this node included when it listens itself).</summary>
    /// <param name="eventName">The event name on the wire.</param>
    /// <returns>The subscribers.</returns>
    public IReadOnlyList<NodeId> GetSubscribers(string eventName) => _local.SubscribersOf(eventName);

    /// <summary>Withdraws the service: tells the other nodes and detaches from the implementation's events.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _services.Unregister(_local);
        }
    }

    /// <summary>Withdraws the service.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
