using Ataraxia.Protocol;

namespace Ataraxia.Internal;

/// <summary>An authenticated session the network routes over.</summary>
internal sealed class PeerConnection(PeerSession session, NodeId remoteId, string transport)
{
    public PeerSession Session { get; } = session;

    public NodeId RemoteId { get; } = remoteId;

    public string Transport { get; } = transport;

    public int Latency => Session.Latency;

    /// <summary>Queues a message without waiting; when the queue is full it is queued in the background.</summary>
    public void Post(PeerMessage message)
    {
        try
        {
            if (!Session.TrySend(message))
            {
                _ = PostSlowAsync(message);
            }
        }
        catch (PeerSessionClosedException)
        {
            // The connection is going away; the topology will hear of it.
        }
    }

    public override string ToString() => $"{RemoteId} via {Transport} ({Session.ConnectionName})";

    private async Task PostSlowAsync(PeerMessage message)
    {
        try
        {
            await Session.SendAsync(message).ConfigureAwait(false);
        }
        catch (PeerSessionClosedException)
        {
        }
    }
}
