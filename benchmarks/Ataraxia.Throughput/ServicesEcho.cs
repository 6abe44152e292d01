namespace Ataraxia.Throughput;

/// <summary>The echo service of the services rows.</summary>
public interface IEchoService
{
    Task<string> EchoAsync(string message);
}

/// <summary>Returns its argument.</summary>
public sealed class EchoService : IEchoService
{
    public Task<string> EchoAsync(string message) => Task.FromResult(message);
}

/// <summary>
/// Ataraxia's own RPC: two nodes over TCP on 127.0.0.1, the provider registers <see cref="IEchoService"/>, the caller calls it
/// through a typed proxy (<c>invoke-request</c> / <c>invoke-reply</c>, each a DATA message acknowledged hop by hop).
/// </summary>
public static class ServicesEcho
{
    public static Task<RpcEcho> StartPlainAsync(CancellationToken cancellationToken) => StartAsync(tls: false, cancellationToken);

    public static Task<RpcEcho> StartTlsAsync(CancellationToken cancellationToken) => StartAsync(tls: true, cancellationToken);

    private static async Task<RpcEcho> StartAsync(bool tls, CancellationToken cancellationToken)
    {
        TcpRows.Chain chain = await TcpRows.StartChainAsync(2, tls);
        var provider = new Services(chain.Receiver);
        var caller = new Services(chain.Sender);
        try
        {
            await provider.JoinAsync(cancellationToken);
            await caller.JoinAsync(cancellationToken);
            provider.Register<IEchoService>("echo", new EchoService());
            ServiceReference reference = caller.Get("echo");
            await reference.WaitUntilAvailableAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            IEchoService echo = reference.As<IEchoService>();
            return new RpcEcho(
                (message, _) => echo.EchoAsync(message),
                new Resources(caller, provider, chain),
                tls ? "typed proxy, TCP + TLS" : "typed proxy, TCP plaintext");
        }
        catch
        {
            await new Resources(caller, provider, chain).DisposeAsync();
            throw;
        }
    }

    private sealed class Resources(Services caller, Services provider, TcpRows.Chain chain) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await caller.DisposeAsync();
            await provider.DisposeAsync();
            await chain.DisposeAsync();
        }
    }
}
