using System.Security.Cryptography;
using System.Threading.Channels;
using Ataraxia.Tcp.Internal;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Discovery;

/// <summary>
/// The single thread of control of a discovery: received packets, control requests and timers all run here, one
/// at a time, so the responder, the browser and the cache need no locks.
/// </summary>
internal sealed class MdnsLoop
{
    private readonly Channel<Func<Task>> _inbox = Channel.CreateBounded<Func<Task>>(new BoundedChannelOptions(1024) { SingleReader = true });
    private readonly PriorityQueue<Timer, (TimeSpan Due, long Sequence)> _timers = new();
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly ILogger _logger;
    private long _sequence;

    public MdnsLoop(TimeProvider time, ILogger logger)
    {
        _time = time;
        _logger = logger;
        _started = time.GetTimestamp();
    }

    /// <summary>Gets the time since the loop was created.</summary>
    public TimeSpan Now => _time.GetElapsedTime(_started);

    /// <summary>Returns a random delay between <paramref name="min"/> and <paramref name="max"/>.</summary>
    /// <param name="min">The shortest delay.</param>
    /// <param name="max">The longest delay.</param>
    /// <returns>The delay.</returns>
    public static TimeSpan Random(TimeSpan min, TimeSpan max) =>
        max <= min ? min : min + TimeSpan.FromTicks((long)((max - min).Ticks * (RandomNumberGenerator.GetInt32(1_000_001) / 1_000_000.0)));

    /// <summary>Queues work from any thread; returns <see langword="false"/> if the queue is full or closed.</summary>
    /// <param name="work">The work.</param>
    /// <returns>Whether it was queued.</returns>
    public bool TryPost(Func<Task> work) => _inbox.Writer.TryWrite(work);

    /// <summary>Queues work from any thread, waiting for room.</summary>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes once queued.</returns>
    public ValueTask PostAsync(Func<Task> work, CancellationToken cancellationToken = default) => _inbox.Writer.WriteAsync(work, cancellationToken);

    /// <summary>Runs work after a delay (loop thread only).</summary>
    /// <param name="delay">The delay.</param>
    /// <param name="work">The work.</param>
    /// <returns>A handle that cancels it.</returns>
    public Timer Schedule(TimeSpan delay, Func<Task> work)
    {
        var timer = new Timer(work);
        _timers.Enqueue(timer, (Now + delay, _sequence++));
        return timer;
    }

    /// <summary>Stops taking work; <see cref="RunAsync"/> returns once the queue is drained.</summary>
    public void Complete() => _inbox.Writer.TryComplete();

    /// <summary>Runs until <see cref="Complete"/> is called or the token is cancelled.</summary>
    /// <param name="cancellationToken">Stops the loop.</param>
    /// <returns>A task that completes when the loop ends.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Task<bool>? waiting = null;
        try
        {
            while (true)
            {
                while (_timers.TryPeek(out Timer? timer, out (TimeSpan Due, long Sequence) key) && key.Due <= Now)
                {
                    _timers.Dequeue();
                    if (!timer.IsCancelled)
                    {
                        await RunSafelyAsync(timer.Work).ConfigureAwait(false);
                    }
                }

                while (_inbox.Reader.TryRead(out Func<Task>? work))
                {
                    await RunSafelyAsync(work).ConfigureAwait(false);
                }

                waiting ??= _inbox.Reader.WaitToReadAsync(cancellationToken).AsTask();
                if (!_timers.TryPeek(out _, out (TimeSpan Due, long Sequence) next))
                {
                    if (!await waiting.ConfigureAwait(false))
                    {
                        return;
                    }

                    waiting = null;
                    continue;
                }

                TimeSpan delay = next.Due - Now;
                if (delay <= TimeSpan.Zero)
                {
                    continue;
                }

                using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                Task sleeping = Task.Delay(delay, _time, stopDelay.Token);
                Task first = await Task.WhenAny(waiting, sleeping).ConfigureAwait(false);
                await stopDelay.CancelAsync().ConfigureAwait(false);
                if (first == waiting)
                {
                    if (!await waiting.ConfigureAwait(false))
                    {
                        return;
                    }

                    waiting = null;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunSafelyAsync(Func<Task> work)
    {
        try
        {
            await work().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.MdnsStepFailed(_logger, work.Method.Name, ex);
        }
    }

    /// <summary>A scheduled piece of work.</summary>
    /// <param name="work">The work.</param>
    internal sealed class Timer(Func<Task> work)
    {
        public Func<Task> Work { get; } = work;

        public bool IsCancelled { get; private set; }

        public void Cancel() => IsCancelled = true;
    }
}
