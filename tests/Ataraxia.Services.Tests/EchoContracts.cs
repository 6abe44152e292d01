using System.Runtime.CompilerServices;

namespace Ataraxia.ServicesTests;

public sealed record Point(int X, int Y);

public sealed record Shape(string Name, IReadOnlyList<Point> Corners, DateTimeOffset? Created = null);

public delegate void EchoHandler(string message);

/// <summary>The contract the tests call through typed proxies: one method per supported signature.</summary>
public interface ICalculator
{
    event EventHandler<Point>? Moved;

    event EchoHandler? OnEcho;

    event EventHandler? Reset;

    Task<int> AddAsync(int a, int b);

    ValueTask<string> EchoAsync(string message, CancellationToken cancellationToken = default);

    Task PingAsync();

    ValueTask ClearAsync(CancellationToken cancellationToken);

    Task<Shape> ScaleAsync(Shape shape, int factor = 2);

    Task<int> SumAsync(params int[] values);

    Task<string?> MaybeAsync(string? value);

    Task<int> WaitForCancellationAsync(CancellationToken cancellationToken);

    Task FailAsync(string message);

    IAsyncEnumerable<int> Ticks(CancellationToken cancellationToken = default);
}

public sealed class Calculator : ICalculator
{
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pings;
    private int _waiting;

    public event EventHandler<Point>? Moved;

    public event EchoHandler? OnEcho;

    public event EventHandler? Reset;

    public int Pings => Volatile.Read(ref _pings);

    public int Clears { get; private set; }

    public Task Cancelled => _cancelled.Task;

    /// <summary>Gets how many calls of <see cref="WaitForCancellationAsync"/> are running.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public bool HasMovedListeners => Moved is not null;

    public bool HasEchoListeners => OnEcho is not null;

    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    public ValueTask<string> EchoAsync(string message, CancellationToken cancellationToken = default)
    {
        OnEcho?.Invoke(message);
        return ValueTask.FromResult(message);
    }

    public Task PingAsync()
    {
        Interlocked.Increment(ref _pings);
        return Task.CompletedTask;
    }

    public ValueTask ClearAsync(CancellationToken cancellationToken)
    {
        Clears++;
        Reset?.Invoke(this, EventArgs.Empty);
        return ValueTask.CompletedTask;
    }

    public Task<Shape> ScaleAsync(Shape shape, int factor = 2) =>
        Task.FromResult(shape with { Corners = [.. shape.Corners.Select(p => new Point(p.X * factor, p.Y * factor))] });

    public Task<int> SumAsync(params int[] values) => Task.FromResult(values.Sum());

    public Task<string?> MaybeAsync(string? value) => Task.FromResult(value);

    public async Task<int> WaitForCancellationAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            _cancelled.TrySetResult();
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return 0;
    }

    public Task FailAsync(string message) => throw new InvalidOperationException(message);

    public async IAsyncEnumerable<int> Ticks([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; ; i++)
        {
            await Task.Delay(20, cancellationToken);
            yield return i;
        }
    }

    public void Move(int x, int y) => Moved?.Invoke(this, new Point(x, y));
}
