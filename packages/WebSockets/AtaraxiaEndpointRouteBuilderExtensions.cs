using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Ataraxia.WebSockets;

/// <summary>Maps a URL of an ASP.NET Core application to the Ataraxia network registered with <see cref="AtaraxiaServiceCollectionExtensions"/>.</summary>
public static class AtaraxiaEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Accepts Ataraxia WebSocket connections at <paramref name="pattern"/> and hands them to the network as
    /// server-role sessions. Refusals happen before the upgrade: 400 for other requests, 403 for a disallowed
    /// origin, the authorization hook's status when it declines, 503 while the network is not joined or full.
    /// </summary>
    /// <param name="endpoints">The application's endpoint routes (for example the <c>WebApplication</c>).</param>
    /// <param name="pattern">The route, for example <c>/mesh</c>.</param>
    /// <param name="configure">Adjusts what is accepted (origins, authorization hook, limits), for example <c>o =&gt; o with { AllowedOrigins = ["https://example.com"] }</c>.</param>
    /// <returns>The endpoint's convention builder, for example to add <c>RequireAuthorization()</c>.</returns>
    /// <exception cref="InvalidOperationException">
    /// <c>AddAtaraxia</c> was not called, or the network it registered has no <see cref="WebSocketServerEndpoint"/> among its transports.
    /// </exception>
    /// <remarks>WebSocket support (<c>UseWebSockets()</c>) is added for this endpoint; the application need not add it.</remarks>
    public static IEndpointConventionBuilder MapAtaraxiaWebSockets(
        this IEndpointRouteBuilder endpoints,
        [StringSyntax("Route")] string pattern,
        Func<WebSocketEndpointOptions, WebSocketEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        // AddAtaraxia of this package registers the endpoint; with Ataraxia.Services' AddAtaraxia it is one of the network's transports.
        WebSocketServerEndpoint endpoint = endpoints.ServiceProvider.GetService<WebSocketServerEndpoint>()
            ?? endpoints.ServiceProvider.GetService<Network>()?.Transports.OfType<WebSocketServerEndpoint>().FirstOrDefault()
            ?? throw new InvalidOperationException(
                "No Ataraxia network with a WebSocket endpoint is registered: call builder.Services.AddAtaraxia(...) before MapAtaraxiaWebSockets "
                + "(with Ataraxia.Services' AddAtaraxia, put a WebSocketServerEndpoint among the network's transports).");
        WebSocketEndpointOptions options = configure is null ? new WebSocketEndpointOptions() : configure(new WebSocketEndpointOptions());
        ArgumentNullException.ThrowIfNull(options, nameof(configure));
        options.Validate();

        // The WebSocket middleware only adds its feature when the application has not already.
        IApplicationBuilder pipeline = endpoints.CreateApplicationBuilder();
        pipeline.UseWebSockets();
        pipeline.Run(context => endpoint.HandleRequestAsync(context, options));
        RequestDelegate handler = pipeline.Build();
        return endpoints.Map(pattern, handler).WithDisplayName($"Ataraxia WebSockets {pattern}");
    }
}
