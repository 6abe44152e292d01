using Ataraxia.Protocol;

namespace Ataraxia.Tests.Sessions;

/// <summary>A server and a client session joined by an in-memory pipe.</summary>
internal sealed class SessionPair : IAsyncDisposable
{
    public SessionPair(PeerSessionOptions? serverOptions = null, PeerSessionOptions? clientOptions = null)
    {
        (DuplexPipe serverEnd, DuplexPipe clientEnd) = DuplexPipe.CreatePair();
        ServerId = NodeId.NewId();
        ClientId = NodeId.NewId();
        Server = new PeerSession(serverEnd, PeerRole.Server, ServerId, serverOptions, connectionName: "server");
        Client = new PeerSession(clientEnd, PeerRole.Client, ClientId, clientOptions ?? serverOptions, connectionName: "client");
    }

    public NodeId ServerId { get; }

    public NodeId ClientId { get; }

    public PeerSession Server { get; }

    public PeerSession Client { get; }

    public void Start()
    {
        Server.Start();
        Client.Start();
    }

    public async ValueTask DisposeAsync()
    {
        Server.Abort();
        Client.Abort();
        await Server.Completion;
        await Client.Completion;
    }
}
