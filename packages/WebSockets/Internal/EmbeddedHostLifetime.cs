using Microsoft.Extensions.Hosting;

namespace Ataraxia.WebSockets.Internal;

/// <summary>
/// The lifetime of a web server embedded in a transport: started and stopped by the transport only. The default
/// console lifetime would take over Ctrl+C and SIGTERM from the application that uses the transport.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
