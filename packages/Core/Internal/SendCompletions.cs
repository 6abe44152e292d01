using System.Collections.Concurrent;

namespace Ataraxia.Internal;

/// <summary>
/// Answers (DATA_ACK, DATA_REJECT) that a connection's pump read in one go, resumed together: one thread-pool work
/// item runs every waiting caller's continuation in turn, instead of one work item per message. Callers still never
/// run on the pump itself, so a slow caller delays other callers' resumption but never routing.
/// </summary>
internal sealed class SendCompletions : IThreadPoolWorkItem
{
    private const int MaxPooled = 64;
    private static readonly ConcurrentQueue<SendCompletions> Pool = new();
    private readonly List<(PendingSend Send, Exception? Error)> _items = new(64);

    /// <summary>Gets the number of claimed sends waiting to be resumed.</summary>
    public int Count => _items.Count;

    /// <summary>Gets an empty batch.</summary>
    public static SendCompletions Rent() => Pool.TryDequeue(out SendCompletions? batch) ? batch : new SendCompletions();

    /// <summary>Adds a send claimed with <see cref="PendingSend.TryClaim"/>.</summary>
    public void Add(PendingSend send, Exception? error) => _items.Add((send, error));

    /// <summary>Hands the batch to the thread pool; it returns to the pool when done.</summary>
    public void Dispatch() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    /// <inheritdoc />
    public void Execute()
    {
        foreach ((PendingSend send, Exception? error) in _items)
        {
            send.CompleteClaimed(error);
        }

        _items.Clear();
        if (Pool.Count < MaxPooled)
        {
            Pool.Enqueue(this);
        }
    }
}
