using Ataraxia.Protocol;
using Ataraxia.Transport;

namespace Ataraxia.Internal;

/// <summary>An authenticated session the network routes over.</summary>
internal sealed class PeerConnection(PeerSession session, NodeId remoteId, string transport, ITransport? owner = null)
{
    public PeerSession Session { get; } = session;

    public NodeId RemoteId { get; } = remoteId;

    public string Transport { get; } = transport;

    /// <summary>Gets the transport that made or accepted the connection.</summary>
    public ITransport? Owner { get; } = owner;

    public int Latency => Session.Latency;

    // Answers read by the pump and not yet handed to the thread pool; touched by the pump only.
    private SendCompletions? _completions;

    /// <summary>Queues the resumption of a claimed send until <see cref="DispatchCompletions"/> (pump only).</summary>
    public void AddCompletion(PendingSend send, Exception? error)
    {
        (_completions ??= SendCompletions.Rent()).Add(send, error);
        if (_completions.Count >= 256)
        {
            DispatchCompletions();
        }
    }

    /// <summary>Hands the queued resumptions to the thread pool (pump only).</summary>
    public void DispatchCompletions()
    {
        if (_completions is { } batch)
        {
            _completions = null;
            batch.Dispatch();
        }
    }

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
