using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace Ataraxia.Internal;

/// <summary>
/// One message sent by this node and waiting for the next hop's DATA_ACK or DATA_REJECT: the source behind the
/// <see cref="ValueTask"/> that <see cref="Network.SendAsync(NodeId, string, Cbor.CborValue, CancellationToken)"/>
/// returns. Instances are pooled, so a steady stream of sends allocates none of them.
/// </summary>
/// <remarks>
/// A send completes exactly once, by whichever comes first: the answer, the timeout sweep, the connection's end or
/// cancellation. Completion is a compare-and-swap on the message id, so a late answer for an earlier use of a
/// pooled instance can never complete a later one. Continuations run asynchronously: the caller's code never runs
/// on a connection's loop.
/// </remarks>
internal sealed class PendingSend : IValueTaskSource
{
    private const long Completed = -1;
    private static readonly ConcurrentQueue<PendingSend> Pool = new();
    private static int _pooled;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private long _id = Completed;
    private Action<ulong, PendingSend>? _onComplete;
    private CancellationTokenRegistration _cancellation;

    /// <summary>Gets the connection the message left through.</summary>
    public PeerConnection Hop { get; private set; } = null!;

    /// <summary>Gets the destination.</summary>
    public NodeId Target { get; private set; }

    /// <summary>Gets when the message was queued (a <see cref="TimeProvider"/> timestamp).</summary>
    public long SentAt { get; private set; }

    /// <summary>Gets a pooled instance set up for one send.</summary>
    /// <param name="id">The message id (the path entry's id); must be below 2^63.</param>
    /// <param name="hop">The connection the message leaves through.</param>
    /// <param name="target">The destination.</param>
    /// <param name="sentAt">The timestamp the timeout counts from.</param>
    /// <param name="onComplete">Called once when the send completes, before the caller's continuation (releases its slot).</param>
    public static PendingSend Rent(ulong id, PeerConnection hop, NodeId target, long sentAt, Action<ulong, PendingSend> onComplete)
    {
        if (!Pool.TryDequeue(out PendingSend? send))
        {
            send = new PendingSend();
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }

        send.Hop = hop;
        send.Target = target;
        send.SentAt = sentAt;
        send._onComplete = onComplete;
        Volatile.Write(ref send._id, (long)id);
        return send;
    }

    /// <summary>Gets the task the caller awaits.</summary>
    public ValueTask WaitAsync() => new(this, _core.Version);

    /// <summary>Completes the send for message <paramref name="id"/>; does nothing if it already completed or was reused.</summary>
    /// <param name="id">The message id the completion is for.</param>
    /// <param name="error">The failure, or <see langword="null"/> for success.</param>
    /// <returns><see langword="true"/> if this call completed the send.</returns>
    public bool TryComplete(ulong id, Exception? error)
    {
        if (Interlocked.CompareExchange(ref _id, Completed, (long)id) != (long)id)
        {
            return false;
        }

        Release(id);
        _core.RunContinuationsAsynchronously = true;
        if (error is null)
        {
            _core.SetResult(true);
        }
        else
        {
            _core.SetException(error);
        }

        return true;
    }

    /// <summary>
    /// Takes the send for message <paramref name="id"/> out of the race like <see cref="TryComplete"/>, but leaves the
    /// caller's continuation for <see cref="CompleteClaimed"/>, so that a batch of answers resumes its callers in
    /// one thread-pool work item instead of one each.
    /// </summary>
    /// <returns><see langword="true"/> if this call claimed the send; it must then call <see cref="CompleteClaimed"/>.</returns>
    public bool TryClaim(ulong id)
    {
        if (Interlocked.CompareExchange(ref _id, Completed, (long)id) != (long)id)
        {
            return false;
        }

        Release(id);
        return true;
    }

    /// <summary>Completes a claimed send, running the caller's continuation on this thread.</summary>
    public void CompleteClaimed(Exception? error)
    {
        _core.RunContinuationsAsynchronously = false;
        if (error is null)
        {
            _core.SetResult(true);
        }
        else
        {
            _core.SetException(error);
        }
    }

    /// <summary>Fails the send with <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.</summary>
    public void RegisterCancellation(ulong id, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return;
        }

        // The id travels with the registration: a callback that runs late must not cancel a later use of this instance.
        _cancellation = cancellationToken.UnsafeRegister(
            static (state, token) =>
            {
                var (send, id) = ((PendingSend, ulong))state!;
                send.TryComplete(id, new OperationCanceledException(token));
            },
            (this, id));
    }

    private void Release(ulong id)
    {
        _cancellation.Unregister();
        _cancellation = default;
        _onComplete?.Invoke(id, this);
        _onComplete = null;
    }

    /// <inheritdoc />
    public void GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            Hop = null!;
            if (Interlocked.Increment(ref _pooled) <= 4096)
            {
                Pool.Enqueue(this);
            }
            else
            {
                Interlocked.Decrement(ref _pooled);
            }
        }
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
