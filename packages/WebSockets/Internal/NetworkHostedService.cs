using Microsoft.Extensions.Hosting;

namespace Ataraxia.WebSockets.Internal;

/// <summary>
/// Joins the registered network when the host starts and leaves it when the host begins to stop, before the web
/// server waits for open requests: WebSocket requests last as long as their sessions.
/// </summary>
internal sealed class NetworkHostedService(Network network) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => network.JoinAsync(cancellationToken).AsTask();

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => network.LeaveAsync(cancellationToken).AsTask();

    public Task StopAsync(CancellationToken cancellationToken) => network.LeaveAsync(cancellationToken).AsTask();

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
