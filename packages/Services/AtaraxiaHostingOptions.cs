using System.Diagnostics.CodeAnalysis;
using Ataraxia.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Ataraxia;

/// <summary>
/// What <see cref="AtaraxiaHostingExtensions.AddAtaraxia"/> registers: the network's settings, the services' settings and
/// the services this node offers while the host runs.
/// </summary>
/// <remarks>Read once, when <c>AddAtaraxia</c> is called; changes made later have no effect.</remarks>
public sealed class AtaraxiaHostingOptions
{
    private readonly List<Func<Services, IServiceProvider, ServiceRegistration>> _offered = [];

    /// <summary>Gets or sets the network settings.</summary>
    /// <remarks>
    /// Required unless <see cref="NetworkFactory"/> is set. When their <see cref="NetworkOptions.LoggerFactory"/> is left
    /// at its default, the network logs through the host's <c>ILoggerFactory</c>.
    /// </remarks>
    public NetworkOptions? Network { get; set; }

    /// <summary>
    /// Gets or sets a function that creates the network settings from the application's services (configuration,
    /// secrets, a transport registered in the container); it takes precedence over <see cref="Network"/>.
    /// </summary>
    /// <remarks>Defaults to <see langword="null"/>. Called once, when the <see cref="Ataraxia.Network"/> is first resolved.</remarks>
    public Func<IServiceProvider, NetworkOptions>? NetworkFactory { get; set; }

    /// <summary>Gets or sets the settings of the registered <see cref="Ataraxia.Services"/>.</summary>
    /// <remarks>Defaults to <c>new ServicesOptions()</c>.</remarks>
    public ServicesOptions Services { get; set; } = new();

    internal IReadOnlyList<Func<Services, IServiceProvider, ServiceRegistration>> Offered => _offered;

    /// <summary>
    /// Offers the container's <typeparamref name="TService"/> as the service <paramref name="id"/> from the moment the host
    /// started until it stops (<see cref="Ataraxia.Services.Register{TService}"/>).
    /// </summary>
    /// <typeparam name="TService">The contract, as registered in the container (usually an interface).</typeparam>
    /// <param name="id">The service id.</param>
    /// <returns>These options, for chaining.</returns>
    [RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
    [RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
    public AtaraxiaHostingOptions AddService<TService>(string id)
        where TService : class =>
        AddService(id, provider => provider.GetRequiredService<TService>());

    /// <summary>
    /// Offers the object <paramref name="factory"/> creates as the service <paramref name="id"/> from the moment the host
    /// started until it stops (<see cref="Ataraxia.Services.Register{TService}"/>).
    /// </summary>
    /// <typeparam name="TService">The contract (usually an interface).</typeparam>
    /// <param name="id">The service id.</param>
    /// <param name="factory">Creates the implementation from the application's services, once, as the host starts.</param>
    /// <returns>These options, for chaining.</returns>
    [RequiresUnreferencedCode(ServicesConstants.ReflectionMessage)]
    [RequiresDynamicCode(ServicesConstants.ReflectionMessage)]
    public AtaraxiaHostingOptions AddService<TService>(string id, Func<IServiceProvider, TService> factory)
        where TService : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(factory);
        _offered.Add((services, provider) => services.Register(id, factory(provider)));
        return this;
    }
}
