using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Ataraxia.Authentication;
using Ataraxia.Tcp;
using Ataraxia.Testing.Hosts;
using Microsoft.Extensions.Logging;

namespace Ataraxia.ServicesTestHost;

/// <summary>
/// One Ataraxia node with a TCP transport (TLS) that offers the service <c>hang-service</c>, reporting events as JSON
/// lines on stdout. The services tests kill it while calls to <c>hang</c> wait for their answer.
/// </summary>
/// <remarks>
/// <para>Arguments (all optional): <c>--bind ADDRESS</c> (default 127.0.0.1), <c>--port N</c> (default 0: the system
/// picks), <c>--secret SECRET</c> (SharedSecretAuth; anonymous without it), <c>--name NETWORK</c> (default
/// "services-tcp-tests"), <c>--service ID</c> (default "hang-service").</para>
/// <para>The service has <c>echo(text)</c>, which answers <c>text</c>, and <c>hang()</c>, which never answers.</para>
/// <para>Events: <c>{"event":"ready","id":ID,"port":N}</c> (joined, listening and registered),
/// <c>{"event":"hang","running":N}</c> (a call of <c>hang</c> started; N run now), <c>{"event":"available","id":ID}</c> /
/// <c>"unavailable"</c>, <c>{"event":"log",…}</c> (warnings and errors), <c>{"event":"left"}</c>,
/// <c>{"event":"fatal","error":E}</c>.</para>
/// <para>The node leaves and the process exits when stdin ends.</para>
/// </remarks>
internal static class Program
{
    public static Task<int> Main(string[] args) => Output.RunAsync(() => RunAsync(args));

    private static async Task<int> RunAsync(string[] args)
    {
        IPAddress bind = IPAddress.Loopback;
        int port = 0;
        string? secret = null;
        string name = "services-tcp-tests";
        string service = "hang-service";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--bind":
                    bind = IPAddress.Parse(args[++i]);
                    break;
                case "--port":
                    port = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--secret":
                    secret = args[++i];
                    break;
                case "--name":
                    name = args[++i];
                    break;
                case "--service":
                    service = args[++i];
                    break;
                default:
                    throw new FormatException($"Unknown option {args[i]}.");
            }
        }

        using var loggerFactory = new JsonLoggerFactory(LogLevel.Warning);
        await using var transport = new TcpTransport(new TcpTransportOptions
        {
            BindAddresses = [bind],
            Port = port,
        });
        await using var network = new Network(new NetworkOptions
        {
            Name = name,
            Transports = [transport],
            Authentication = secret is null ? [AnonymousAuth.Instance] : [new SharedSecretAuth(secret)],
            LoggerFactory = loggerFactory,
        });
        network.NodeAvailable += (_, e) => Output.Write(new JsonObject { ["event"] = "available", ["id"] = e.Node.Id.ToString() });
        network.NodeUnavailable += (_, e) => Output.Write(new JsonObject { ["event"] = "unavailable", ["id"] = e.Node.Id.ToString() });

        await network.JoinAsync();
        await using var services = new Services(network);
        await services.JoinAsync();
        using ServiceRegistration registration = services.Register<IHangService>(service, new HangService());
        Output.Write(new JsonObject { ["event"] = "ready", ["id"] = network.Id.ToString(), ["port"] = transport.Port });

        while (await Console.In.ReadLineAsync() is not null)
        {
        }

        await services.DisposeAsync();
        await network.LeaveAsync();
        Output.Write(new JsonObject { ["event"] = "left" });
        return 0;
    }
}

/// <summary>The contract of the test service.</summary>
internal interface IHangService
{
    Task<string> EchoAsync(string text);

    Task<int> HangAsync(CancellationToken cancellationToken);
}

internal sealed class HangService : IHangService
{
    private int _running;

    public Task<string> EchoAsync(string text) => Task.FromResult(text);

    /// <summary>Never answers: waits until the services stop (the process ends or is killed first).</summary>
    public async Task<int> HangAsync(CancellationToken cancellationToken)
    {
        Output.Write(new JsonObject { ["event"] = "hang", ["running"] = Interlocked.Increment(ref _running) });
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
