using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Sessions;

/// <summary>A server session under test whose client is a <see cref="ScriptedPeer"/> driven by the test.</summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private ScriptedServer(PeerSessionOptions? options)
    {
        (DuplexPipe serverEnd, DuplexPipe rawEnd) = DuplexPipe.CreatePair();
        Session = new PeerSession(serverEnd, PeerRole.Server, NodeId.NewId(), options);
        Peer = new ScriptedPeer(rawEnd);
    }

    public PeerSession Session { get; }

    public ScriptedPeer Peer { get; }

    public static ScriptedServer Start(PeerSessionOptions? options = null)
    {
        var server = new ScriptedServer(options);
        server.Session.Start();
        return server;
    }

    /// <summary>Starts the server and negotiates an anonymous session with it.</summary>
    public static async Task<ScriptedServer> StartActiveAsync(PeerSessionOptions? options = null)
    {
        ScriptedServer server = Start(options);
        await server.Peer.NegotiateAsClientAsync(NodeId.NewId());
        await server.Session.WaitForActiveAsync().DefaultTimeout();
        return server;
    }

    public ValueTask DisposeAsync() => Session.DisposeAsync();
}
