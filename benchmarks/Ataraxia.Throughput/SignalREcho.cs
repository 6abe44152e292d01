using System.Net;
using System.Net.WebSockets;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Ataraxia.Throughput;

/// <summary>The hub of the SignalR baseline.</summary>
public sealed class EchoHub : Hub
{
    public string Echo(string s) => s;
}

/// <summary>
/// The RPC baseline: an ASP.NET Core SignalR hub (Kestrel, JSON hub protocol, WebSockets) on 127.0.0.1 and a
/// <see cref="HubConnection"/> to it in the same process, calling <see cref="EchoHub.Echo"/>.
/// </summary>
/// <remarks>
/// The client is <c>Microsoft.AspNetCore.SignalR.Client.Core</c>'s <see cref="HubConnection"/> over
/// <see cref="WebSocketConnectionFactory"/>: one <see cref="ClientWebSocket"/> straight to the hub's URL, without the
/// negotiate request, as the JavaScript client's <c>skipNegotiation</c> does (the package with SignalR's own HTTP
/// transports is not on this build's package mirror). Both ends keep SignalR's defaults otherwise, including one
/// hub method running at a time per connection; logging is off.
/// </remarks>
public static class SignalREcho
{
    private const string HubPath = "/echo";
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    public static async Task<RpcEcho> StartAsync(CancellationToken cancellationToken)
    {
        // The empty builder: Kestrel, routing and SignalR only; no configuration files, no logging providers.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        builder.Services.AddSignalR().AddJsonProtocol();
        WebApplication app = builder.Build();
        app.UseRouting();
        app.MapHub<EchoHub>(HubPath, hub => hub.Transports = HttpTransportType.WebSockets);
        HubConnection? connection = null;
        try
        {
            await app.StartAsync(cancellationToken);
            string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            var url = new UriBuilder(address) { Scheme = "ws", Path = HubPath }.Uri;

            var client = new HubConnectionBuilder();
            client.Services.AddSingleton<IConnectionFactory>(new WebSocketConnectionFactory(WebSocketMessageType.Text));
            client.Services.AddSingleton<EndPoint>(new UriEndPoint(url));
            client.AddJsonProtocol();
            connection = client.Build();
            await connection.StartAsync(cancellationToken);

            HubConnection started = connection;
            return new RpcEcho(
                (s, ct) => started.InvokeAsync<string>(nameof(EchoHub.Echo), s, ct),
                new Server(app, started),
                $"server ASP.NET Core {Version(typeof(Hub))} (Kestrel), client SignalR.Client.Core {Version(typeof(HubConnection))}; JSON hub protocol over one WebSocket on 127.0.0.1, no negotiate request; both in this process");
        }
        catch
        {
            await new Server(app, connection).DisposeAsync();
            throw;
        }
    }

    private static string Version(Type type)
    {
        string? version = type.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return version is null ? "?" : version.Split('+')[0];
    }

    private sealed class Server(WebApplication app, HubConnection? connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                await app.StopAsync(timeout.Token);
            }
            finally
            {
                await app.DisposeAsync();
            }
        }
    }
}
