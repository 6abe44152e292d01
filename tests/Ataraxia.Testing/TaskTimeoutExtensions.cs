using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Ataraxia.Testing;

/// <summary>Bounded waits for tests: every await in a test has a deadline, and a missed one names the call site.</summary>
public static class TaskTimeoutExtensions
{
    /// <summary>The default deadline: 30 s, or none under a debugger.</summary>
    public static TimeSpan DefaultTimeoutValue => Debugger.IsAttached ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(30);

    /// <summary>A short wait used to show that something does NOT happen.</summary>
    public static TimeSpan ExpectedTimeout { get; } = TimeSpan.FromMilliseconds(200);

    public static async Task DefaultTimeout(this Task task, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        try
        {
            await task.WaitAsync(timeout ?? DefaultTimeoutValue).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {timeout ?? DefaultTimeoutValue} at {Path.GetFileName(file)}:{line}.", ex);
        }
    }

    public static async Task<T> DefaultTimeout<T>(this Task<T> task, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        try
        {
            return await task.WaitAsync(timeout ?? DefaultTimeoutValue).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {timeout ?? DefaultTimeoutValue} at {Path.GetFileName(file)}:{line}.", ex);
        }
    }

    public static Task DefaultTimeout(this ValueTask task, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        task.AsTask().DefaultTimeout(timeout, file, line);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        task.AsTask().DefaultTimeout(timeout, file, line);

    /// <summary>
    /// The one sanctioned pause: gives the system <see cref="ExpectedTimeout"/> to do something it must NOT do,
    /// before the test asserts that it did not happen.
    /// </summary>
    public static Task ExpectNothingAsync() => Task.Delay(ExpectedTimeout);

    /// <summary>Polls a condition until it holds or the deadline passes.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? DefaultTimeoutValue;
        while (!condition())
        {
            if (limit != Timeout.InfiniteTimeSpan && deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Condition not met within {limit} at {Path.GetFileName(file)}:{line}.");
            }

            await Task.Yield();
            await Task.Delay(10).ConfigureAwait(false);
        }
    }
}
