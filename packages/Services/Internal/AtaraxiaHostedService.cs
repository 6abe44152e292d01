using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Hosting;

namespace Ataraxia.Internal;

/// <summary>
/// Joins the network, then the services, then offers the configured services when the host starts; withdraws them, leaves the
/// services and leaves the network when the host begins to stop, before a web server waits for open requests (WebSocket
/// requests last as long as their sessions).
/// </summary>
[RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
[RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
internal sealed class AtaraxiaHostedService(
    Network network,
    Services services,
    IReadOnlyList<Func<Services, IServiceProvider, ServiceRegistration>> offered,
    IServiceProvider provider) : IHostedLifecycleService
{
    private readonly List<ServiceRegistration> _registrations = [];

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await network.JoinAsync(cancellationToken).ConfigureAwait(false);
        await services.JoinAsync(cancellationToken).ConfigureAwait(false);
        foreach (Func<Services, IServiceProvider, ServiceRegistration> offer in offered)
        {
            ServiceRegistration registration = offer(services, provider);
            lock (_registrations)
            {
                _registrations.Add(registration);
            }
        }
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => LeaveAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => LeaveAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task LeaveAsync(CancellationToken cancellationToken)
    {
        ServiceRegistration[] registrations;
        lock (_registrations)
        {
            registrations = [.. _registrations];
            _registrations.Clear();
        }

        foreach (ServiceRegistration registration in registrations)
        {
            await registration.DisposeAsync().ConfigureAwait(false);
        }

        await services.DisposeAsync().ConfigureAwait(false);
        await network.LeaveAsync(cancellationToken).ConfigureAwait(false);
    }
}
