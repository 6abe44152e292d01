using System.Diagnostics.CodeAnalysis;
using Ataraxia.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia;

/// <summary>Registers an Ataraxia network and its services in a generic-host or ASP.NET Core application.</summary>
public static class AtaraxiaHostingExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="Network"/> and a singleton <see cref="Services"/> on it, and a hosted service that
    /// joins the network, joins the services and offers the services of <see cref="AtaraxiaHostingOptions.AddService{TService}(string)"/>
    /// when the host starts, and withdraws them, leaves the services and leaves the network as the host begins to stop.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">
    /// Sets the network settings and what to offer, for example
    /// <c>o =&gt; { o.Network = new NetworkOptions { Name = "my-app", Transports = [tcp] }; o.AddService&lt;IGreeter&gt;("greeter"); }</c>.
    /// </param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentException">Neither <see cref="AtaraxiaHostingOptions.Network"/> nor <see cref="AtaraxiaHostingOptions.NetworkFactory"/> is set.</exception>
    /// <exception cref="InvalidOperationException">A network was already registered (by this method or by <c>Ataraxia.WebSockets</c>).</exception>
    /// <remarks>
    /// A WebSocket endpoint of <c>Ataraxia.WebSockets</c> among the network's transports is found by <c>MapAtaraxiaWebSockets</c>.
    /// A host starts once: the network cannot join again after it left.
    /// </remarks>
    [RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
    [RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
    public static IServiceCollection AddAtaraxia(this IServiceCollection services, Action<AtaraxiaHostingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(s => s.ServiceType == typeof(Network)))
        {
            throw new InvalidOperationException("An Ataraxia network is already registered; AddAtaraxia registers one network per application.");
        }

        var options = new AtaraxiaHostingOptions();
        configure(options);
        NetworkOptions? networkOptions = options.Network;
        Func<IServiceProvider, NetworkOptions>? networkFactory = options.NetworkFactory;
        ServicesOptions servicesOptions = options.Services ?? throw new ArgumentException("AtaraxiaHostingOptions.Services is null.", nameof(configure));
        Func<Services, IServiceProvider, ServiceRegistration>[] offered = [.. options.Offered];
        if (networkOptions is null && networkFactory is null)
        {
            throw new ArgumentException("Set AtaraxiaHostingOptions.Network (at least its Name) or AtaraxiaHostingOptions.NetworkFactory.", nameof(configure));
        }

        services.AddSingleton(provider =>
        {
            NetworkOptions created = networkFactory is null
                ? networkOptions!
                : networkFactory(provider) ?? throw new InvalidOperationException("AtaraxiaHostingOptions.NetworkFactory returned null.");
            if (ReferenceEquals(created.LoggerFactory, NullLoggerFactory.Instance) && provider.GetService<ILoggerFactory>() is { } loggerFactory)
            {
                created = created with { LoggerFactory = loggerFactory };
            }

            return new Network(created);
        });
        services.AddSingleton(provider => new Services(provider.GetRequiredService<Network>(), servicesOptions));
        services.AddHostedService(provider => new AtaraxiaHostedService(
            provider.GetRequiredService<Network>(),
            provider.GetRequiredService<Services>(),
            offered,
            provider));
        return services;
    }
}
