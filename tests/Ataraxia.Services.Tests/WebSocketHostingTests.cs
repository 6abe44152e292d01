using System.Net;
using Ataraxia.Authentication;
using Ataraxia.Testing;
using Ataraxia.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ataraxia.ServicesTests;

public interface INamed
{
    Task<string> NameAsync();
}

/// <summary>The general <c>AddAtaraxia</c> of Ataraxia.Services with a WebSocket endpoint among the network's transports.</summary>
[Trait("Category", "Integration")]
public sealed class ServicesHostingTests
{
    [Fact]
    public async Task MapAtaraxiaWebSockets_finds_the_endpoint_among_the_transports_and_a_client_calls_a_service_from_the_container()
    {
        var logs = new TestLoggerFactory();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(logs);
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton<INamed>(new Named("web app"));
        builder.Services.AddAtaraxia(o =>
        {
            o.Network = new NetworkOptions { Name = "ws-tests", Transports = [new WebSocketServerEndpoint()], Authentication = [new SharedSecretAuth("s3cret")] };
            o.AddService<INamed>("named");
        });
        await using WebApplication app = builder.Build();
        app.MapAtaraxiaWebSockets("/mesh");
        await app.StartAsync().DefaultTimeout();
        Network network = app.Services.GetRequiredService<Network>();
        Assert.True(network.IsJoined);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var url = new Uri($"ws://127.0.0.1:{BindingAddress.Parse(address).Port}/mesh");
        await using (var client = new Network(new NetworkOptions
        {
            Name = "ws-tests",
            Transports = [new WebSocketClientTransport(new WebSocketClientTransportOptions { Servers = [url] })],
            Authentication = [new SharedSecretAuth("s3cret")],
            LoggerFactory = logs,
        }))
        {
            await client.JoinAsync();
            await using var services = new Services(client);
            await services.JoinAsync();
            ServiceReference named = services.Get("named");
            await named.WaitUntilAvailableAsync().DefaultTimeout();
            Assert.Equal("web app", await named.As<INamed>().NameAsync().DefaultTimeout());
        }

        await app.StopAsync().DefaultTimeout();
        Assert.False(network.IsJoined);
        Assert.Empty(logs.Errors);
    }

    private sealed class Named(string name) : INamed
    {
        public Task<string> NameAsync() => Task.FromResult(name);
    }
}
