using Ataraxia.WebSockets.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia.WebSockets;

/// <summary>Registers an Ataraxia network in an ASP.NET Core (or other generic host) application.</summary>
/// <remarks>
/// These methods register the network with a WebSocket endpoint and nothing else (no reflection, fit for trimming and
/// native AOT). <c>Ataraxia.Services</c> has the general <c>AddAtaraxia(o =&gt; …)</c>, which registers the network and its
/// <c>Services</c> and offers services from the container; put a <see cref="WebSocketServerEndpoint"/> among its transports
/// and <see cref="AtaraxiaEndpointRouteBuilderExtensions.MapAtaraxiaWebSockets"/> finds it. An application uses one or the other.
/// </remarks>
public static class AtaraxiaServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="Network"/> that joins when the host starts and leaves when it stops, with a
    /// <see cref="WebSocketServerEndpoint"/> among its transports; map it to a URL with
    /// <see cref="AtaraxiaEndpointRouteBuilderExtensions.MapAtaraxiaWebSockets"/>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="networkName">The network name.</param>
    /// <param name="configure">
    /// Adjusts the network settings, which start with the name and the host's logger factory, for example
    /// <c>o =&gt; o with { Authentication = [new SharedSecretAuth(secret)] }</c>. Transports given here (TCP,
    /// WebSocket clients) run beside the server endpoint.
    /// </param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="InvalidOperationException">A network was already registered.</exception>
    public static IServiceCollection AddAtaraxia(this IServiceCollection services, string networkName, Func<NetworkOptions, NetworkOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(networkName);
        return services.AddAtaraxia(provider =>
        {
            var options = new NetworkOptions
            {
                Name = networkName,
                LoggerFactory = provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            };
            return configure is null ? options : configure(options);
        });
    }

    /// <summary>
    /// Registers a singleton <see cref="Network"/> built from settings that may use the application's services;
    /// otherwise like <see cref="AddAtaraxia(IServiceCollection, string, Func{NetworkOptions, NetworkOptions}?)"/>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="createOptions">Creates the network settings; the <see cref="WebSocketServerEndpoint"/> is added to their transports unless they hold it already.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="InvalidOperationException">A network was already registered.</exception>
    public static IServiceCollection AddAtaraxia(this IServiceCollection services, Func<IServiceProvider, NetworkOptions> createOptions)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(createOptions);
        if (services.Any(s => s.ServiceType == typeof(Network)))
        {
            throw new InvalidOperationException("An Ataraxia network is already registered; AddAtaraxia registers one network per application.");
        }

        services.TryAddSingleton(_ => new WebSocketServerEndpoint());
        services.AddSingleton(provider =>
        {
            NetworkOptions options = createOptions(provider) ?? throw new InvalidOperationException("The network settings factory returned null.");
            WebSocketServerEndpoint endpoint = provider.GetRequiredService<WebSocketServerEndpoint>();
            if (!options.Transports.Contains(endpoint))
            {
                options = options with { Transports = [.. options.Transports, endpoint] };
            }

            return new Network(options);
        });
        services.AddHostedService(provider => new NetworkHostedService(provider.GetRequiredService<Network>()));
        return services;
    }
}
