using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;

namespace Ataraxia.Testing;

/// <summary>One line a <see cref="LineProcess"/> wrote.</summary>
/// <param name="IsError">Whether it came from stderr.</param>
/// <param name="Text">The line, without its end.</param>
/// <param name="AtMilliseconds">When it arrived, in milliseconds since the process started.</param>
/// <param name="Index">Its position among all lines of the process (stdout and stderr together), from 0.</param>
public readonly record struct ProcessLine(bool IsError, string Text, long AtMilliseconds, int Index = -1)
{
    /// <summary>Reads a stdout line that is a JSON object (the test hosts' events); anything else gives <see langword="null"/>.</summary>
    /// <returns>The object, or <see langword="null"/>.</returns>
    public System.Text.Json.Nodes.JsonObject? AsJsonObject()
    {
        if (IsError || !Text.StartsWith('{'))
        {
            return null;
        }

        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(Text) as System.Text.Json.Nodes.JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// A long-running child process (a daemon, a node) whose stdout and stderr lines are all kept, so a test can await
/// a line that arrived before or after it began waiting. Every wait has a deadline, and disposing always kills the
/// process tree, so nothing a test starts outlives it.
/// </summary>
/// <remarks>
/// Both streams are read by background tasks into one channel; one pump drains it into the history and completes
/// the waiters in arrival order. Once both streams closed (the process exited), pending and later waits for a line
/// that never came fail at once with the transcript.
/// </remarks>
public sealed class LineProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<ProcessLine> _incoming = Channel.CreateUnbounded<ProcessLine>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<ProcessLine> _lines = [];
    private readonly List<Waiter> _waiters = [];
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _readers;
    private readonly Task _pump;
    private bool _ended;
    private int _disposed;

    private LineProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        Task stdout = Task.Run(() => ReadAsync(process.StandardOutput, isError: false));
        Task stderr = Task.Run(() => ReadAsync(process.StandardError, isError: true));
        _readers = Task.WhenAll(stdout, stderr).ContinueWith(_ => _incoming.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Gets the name used in messages.</summary>
    public string Name { get; }

    /// <summary>Gets the process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Gets a value indicating whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Gets the exit code once the process has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Gets how long ago the process started, on the clock of <see cref="ProcessLine.AtMilliseconds"/>.</summary>
    public long ElapsedMilliseconds => _clock.ElapsedMilliseconds;

    /// <summary>Gets the number of lines received so far: the <see cref="ProcessLine.Index"/> the next one gets (a mark for "only lines after this").</summary>
    public int LineCount
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count;
            }
        }
    }

    /// <summary>Gets a snapshot of every line received so far.</summary>
    public IReadOnlyList<ProcessLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Starts a process with stdin, stdout and stderr redirected.</summary>
    /// <param name="name">The name used in messages.</param>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="environment">Variables to set (a <see langword="null"/> value removes one), or <see langword="null"/>.</param>
    public static LineProcess Start(string name, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach ((string key, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        process.Start();
        return new LineProcess(process, name);
    }

    /// <summary>Writes one line to the process's stdin.</summary>
    public async Task WriteLineAsync(string line)
    {
        await _stdinLock.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync();
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    /// <summary>Closes the process's stdin (many programs take that as the request to finish).</summary>
    public async Task CloseInputAsync()
    {
        await _stdinLock.WaitAsync();
        try
        {
            _process.StandardInput.Close();
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    /// <summary>Waits for the first line (received before or after the call) that matches <paramref name="predicate"/>.</summary>
    /// <exception cref="TimeoutException">No such line within the timeout (<see cref="TaskTimeoutExtensions.DefaultTimeoutValue"/> by default); the message holds the transcript.</exception>
    /// <exception cref="InvalidOperationException">The process closed its output first.</exception>
    public async Task<ProcessLine> WaitForLineAsync(Func<ProcessLine, bool> predicate, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var waiter = new Waiter(predicate);
        lock (_lines)
        {
            foreach (ProcessLine existing in _lines)
            {
                if (predicate(existing))
                {
                    return existing;
                }
            }

            if (_ended)
            {
                throw new InvalidOperationException($"{Name} has exited (exit code {ExitCodeText()}) without the line awaited at {Path.GetFileName(file)}:{line}.\n{Transcript()}");
            }

            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Completion.Task.DefaultTimeout(timeout, file, line);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Waiting for a line of {Name}.\n{Transcript()}", ex);
        }
        finally
        {
            lock (_lines)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Waits for the first stdout or stderr line that contains <paramref name="text"/>.</summary>
    public Task<ProcessLine> WaitForTextAsync(string text, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        WaitForLineAsync(l => l.Text.Contains(text, StringComparison.Ordinal), timeout, file, line);

    /// <summary>Waits for the process to exit, with a deadline.</summary>
    public async Task WaitForExitAsync(TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        try
        {
            await _process.WaitForExitAsync().DefaultTimeout(timeout, file, line);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Waiting for {Name} to exit.\n{Transcript()}", ex);
        }
    }

    /// <summary>Kills the process tree at once (SIGKILL) and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        await _process.WaitForExitAsync().DefaultTimeout();
    }

    /// <summary>Formats the recent lines for failure messages.</summary>
    public string Transcript(int maxLines = 80)
    {
        IReadOnlyList<ProcessLine> lines = Lines;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"--- {Name}: last {Math.Min(maxLines, lines.Count)} of {lines.Count} lines ---");
        foreach (ProcessLine l in lines.Skip(Math.Max(0, lines.Count - maxLines)))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{l.AtMilliseconds,7} {(l.IsError ? "err" : "out")} {l.Text}");
        }

        return text.ToString();
    }

    /// <summary>Kills the process tree (if still running) and releases everything; safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
                await Task.WhenAll(_readers, _pump).WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                // A grandchild may hold the pipes open; the process itself is gone, and the test must not hang on it.
            }
        }

        _process.Dispose();
        _stdinLock.Dispose();
    }

    private string ExitCodeText() => _process.HasExited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "unknown";

    private async Task ReadAsync(StreamReader reader, bool isError)
    {
        while (await reader.ReadLineAsync() is { } text)
        {
            await _incoming.Writer.WriteAsync(new ProcessLine(isError, text, _clock.ElapsedMilliseconds));
        }
    }

    private async Task PumpAsync()
    {
        await foreach (ProcessLine l in _incoming.Reader.ReadAllAsync())
        {
            List<Waiter> matched = [];
            ProcessLine numbered;
            lock (_lines)
            {
                numbered = l with { Index = _lines.Count };
                _lines.Add(numbered);
                foreach (Waiter waiter in _waiters)
                {
                    if (waiter.Predicate(numbered))
                    {
                        matched.Add(waiter);
                    }
                }

                _waiters.RemoveAll(matched.Contains);
            }

            foreach (Waiter waiter in matched)
            {
                waiter.Completion.TrySetResult(numbered);
            }
        }

        // Both streams closed: the process is gone (or going). Nobody waits for lines that cannot come.
        List<Waiter> pending;
        lock (_lines)
        {
            _ended = true;
            pending = [.. _waiters];
            _waiters.Clear();
        }

        foreach (Waiter waiter in pending)
        {
            waiter.Completion.TrySetException(new InvalidOperationException($"{Name} closed its output (exited, code {ExitCodeText()}).\n{Transcript()}"));
        }
    }

    private sealed class Waiter(Func<ProcessLine, bool> predicate)
    {
        public Func<ProcessLine, bool> Predicate { get; } = predicate;

        public TaskCompletionSource<ProcessLine> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
