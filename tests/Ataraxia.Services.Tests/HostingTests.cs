using Ataraxia.Testing;
using Ataraxia.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ataraxia.ServicesTests;

/// <summary><c>services.AddAtaraxia(o =&gt; …)</c> in a generic host: join on start, offer services from the container, leave on stop.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task The_host_joins_offers_a_service_from_the_container_and_leaves_when_it_stops()
    {
        await using var switchboard = new InMemorySwitchboard();
        InMemoryTransport hostedTransport = switchboard.CreateTransport("hosted");
        InMemoryTransport remoteTransport = switchboard.CreateTransport("remote");
        var logs = new TestLoggerFactory();

        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<ILoggerFactory>(logs);
        builder.Services.AddSingleton<ICalculator, Calculator>();
        builder.Services.AddAtaraxia(o =>
        {
            o.Network = new NetworkOptions { Name = "hosting", Transports = [hostedTransport] };
            o.Services = new ServicesOptions { CallTimeout = TimeSpan.FromSeconds(10) };
            o.AddService<ICalculator>("calc");
        });
        using IHost host = builder.Build();
        Network network = host.Services.GetRequiredService<Network>();
        Services services = host.Services.GetRequiredService<Services>();
        Assert.Same(network, services.Network);
        Assert.Same(logs, network.Options.LoggerFactory);
        Assert.Equal(TimeSpan.FromSeconds(10), services.Options.CallTimeout);
        Assert.False(network.IsJoined);

        await host.StartAsync().DefaultTimeout();
        Assert.True(network.IsJoined);

        // Another network, not in the host, calls the service the container provides.
        await using var remote = new Network(new NetworkOptions { Name = "hosting", Transports = [remoteTransport] });
        await remote.JoinAsync();
        await using var remoteServices = new Services(remote);
        await remoteServices.JoinAsync();
        await switchboard.LinkAsync(hostedTransport, remoteTransport).DefaultTimeout();
        ServiceReference calc = remoteServices.Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        Assert.Equal([network.Id], calc.Providers.Select(p => p.Node));
        Assert.Equal(5, await calc.As<ICalculator>().AddAsync(2, 3).DefaultTimeout());
        Assert.Equal("hi", await calc.As<ICalculator>().EchoAsync("hi").DefaultTimeout());

        await host.StopAsync().DefaultTimeout();

        Assert.False(network.IsJoined);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !calc.IsAvailable && !remote.TryGetNode(network.Id, out _));
        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => calc.As<ICalculator>().AddAsync(1, 1));
        Assert.Equal(ServiceCallFailure.NotAvailable, error.Failure);
        Assert.Empty(logs.Errors);
    }

    [Fact]
    public async Task The_network_settings_can_come_from_the_application_services()
    {
        await using var switchboard = new InMemorySwitchboard();
        var services = new ServiceCollection();
        services.AddSingleton(switchboard.CreateTransport("from-container"));
        services.AddAtaraxia(o => o.NetworkFactory = provider => new NetworkOptions
        {
            Name = "factory",
            Transports = [provider.GetRequiredService<InMemoryTransport>()],
            Endpoint = true,
        });

        await using ServiceProvider provider = services.BuildServiceProvider();
        Network network = provider.GetRequiredService<Network>();
        Assert.Equal("factory", network.Name);
        Assert.True(network.Options.Endpoint);
        Assert.Same(provider.GetRequiredService<InMemoryTransport>(), Assert.Single(network.Options.Transports));
        Assert.Single(provider.GetServices<IHostedService>());
    }

    [Fact]
    public void One_network_per_application_and_settings_are_required()
    {
        var services = new ServiceCollection();
        ArgumentException missing = Assert.Throws<ArgumentException>(() => services.AddAtaraxia(_ => { }));
        Assert.Contains("Network", missing.Message, StringComparison.Ordinal);
        Assert.Empty(services);

        services.AddAtaraxia(o => o.Network = new NetworkOptions { Name = "one" });
        InvalidOperationException twice = Assert.Throws<InvalidOperationException>(() => services.AddAtaraxia(o => o.Network = new NetworkOptions { Name = "two" }));
        Assert.Contains("already registered", twice.Message, StringComparison.Ordinal);
    }
}
