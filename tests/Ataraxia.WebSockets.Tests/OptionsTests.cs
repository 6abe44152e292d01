using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Ataraxia.WebSockets.Tests;

/// <summary>Settings are checked when a transport or endpoint is created, not when the first connection fails.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void Client_urls_must_be_websocket_urls()
    {
        Assert.Throws<ArgumentException>(() => new WebSocketClientTransport(new WebSocketClientTransportOptions { Servers = [new Uri("http://example.com/")] }));
        var transport = new WebSocketClientTransport();
        Assert.Throws<ArgumentException>(() => transport.AddServer(new Uri("tcp://example.com:1234")));
        transport.AddServer(new Uri("wss://example.com/mesh"));
        Assert.True(transport.RemoveServer(new Uri("wss://example.com/mesh")));
        Assert.False(transport.RemoveServer(new Uri("wss://example.com/mesh")));
    }

    [Fact]
    public void Invalid_limits_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebSocketClientTransport(new WebSocketClientTransportOptions { MaxMessageSize = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebSocketClientTransport(new WebSocketClientTransportOptions { ReconnectMaxDelay = TimeSpan.FromMilliseconds(1) }));
        Assert.Throws<ArgumentException>(() => new WebSocketClientTransport(new WebSocketClientTransportOptions { Authentication = [] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebSocketServerTransport(new WebSocketServerTransportOptions { Port = 70000 }));
        Assert.Throws<ArgumentException>(() => new WebSocketServerTransport(new WebSocketServerTransportOptions { Path = "mesh" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebSocketServerTransport(new WebSocketServerTransportOptions
        {
            Endpoint = new WebSocketEndpointOptions { MaxPendingConnections = 0 },
        }));
    }

    [Fact]
    public void Origins_match_case_insensitively_and_requests_without_origin_pass()
    {
        var options = new WebSocketEndpointOptions { AllowedOrigins = ["https://app.example:8443"] };

        Assert.True(options.IsOriginAllowed("https://APP.example:8443"));
        Assert.True(options.IsOriginAllowed("https://app.example:8443/"));
        Assert.True(options.IsOriginAllowed(null));
        Assert.False(options.IsOriginAllowed("https://app.example"));
        Assert.False(options.IsOriginAllowed("http://app.example:8443"));
        Assert.True(new WebSocketEndpointOptions().IsOriginAllowed("https://anything.example"));
        Assert.True((options with { AllowedOrigins = ["*"] }).IsOriginAllowed("https://anything.example"));
    }

    [Fact]
    public async Task Mapping_without_AddAtaraxia_says_what_is_missing()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        await using WebApplication app = builder.Build();

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => app.MapAtaraxiaWebSockets("/mesh"));
        Assert.Contains("AddAtaraxia", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAtaraxia_registers_one_network_with_the_server_endpoint_among_its_transports()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAtaraxia("unit", o => o with { Endpoint = true });
        Assert.Throws<InvalidOperationException>(() => services.AddAtaraxia("again"));

        await using ServiceProvider provider = services.BuildServiceProvider();
        Network network = provider.GetRequiredService<Network>();
        Assert.Equal("unit", network.Name);
        Assert.True(network.Options.Endpoint);
        Assert.Contains(provider.GetRequiredService<WebSocketServerEndpoint>(), network.Options.Transports);
        Assert.False(network.IsJoined);
    }
}
