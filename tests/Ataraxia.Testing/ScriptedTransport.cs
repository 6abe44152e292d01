using Ataraxia.Protocol;
using Ataraxia.Transport;

namespace Ataraxia.Testing;

/// <summary>
/// A transport whose connections lead to <see cref="ScriptedPeer"/>s: a test plays a neighbour of a real network
/// message by message, to provoke exactly the protocol situations it wants.
/// </summary>
public sealed class ScriptedTransport : ITransport
{
    private ITransportHost? _host;

    public string Name => "scripted";

    public NodeId LocalId => _host?.LocalId ?? throw new InvalidOperationException("Not started.");

    public ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        _host = host;
        return ValueTask.CompletedTask;
    }

    public ValueTask StopAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <summary>Connects a scripted client to the network (which plays server) and negotiates anonymously as <paramref name="id"/>.</summary>
    public async Task<ScriptedPeer> ConnectAsync(NodeId id)
    {
        ITransportHost host = _host ?? throw new InvalidOperationException("Join the network first.");
        (DuplexPipe networkEnd, DuplexPipe scriptedEnd) = DuplexPipe.CreatePair();
        PeerSession session = host.CreateSession(networkEnd, PeerRole.Server, connectionName: $"scripted {id}");
        Task<NodeId> attach = host.AttachAsync(session);
        var peer = new ScriptedPeer(scriptedEnd);
        await peer.NegotiateAsClientAsync(id).DefaultTimeout();
        await attach.DefaultTimeout();
        return peer;
    }
}
