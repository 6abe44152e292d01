using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ataraxia.Cbor;

namespace Ataraxia.Cli;

/// <summary>A command <c>ataraxia serve</c> exposes: the method name and the program with its fixed arguments.</summary>
/// <param name="Name">The method name callers use.</param>
/// <param name="Program">The program to run.</param>
/// <param name="Arguments">The arguments that always come first; the caller's arguments follow them.</param>
internal sealed record ExposedCommand(string Name, string Program, IReadOnlyList<string> Arguments)
{
    /// <summary>Reads <c>name=command line</c>; the command line is split like a shell splits words, but no shell runs it.</summary>
    public static ExposedCommand Parse(string text)
    {
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        string name = equals > 0 ? text[..equals].Trim() : string.Empty;
        if (name.Length == 0 || name.Any(char.IsWhiteSpace))
        {
            throw CommandException.Usage($"--expose needs name=command (for example uptime=uptime), not '{text}'.");
        }

        IReadOnlyList<string> words = SplitWords(text[(equals + 1)..]);
        if (words.Count == 0)
        {
            throw CommandException.Usage($"--expose {name}= needs a command.");
        }

        return new ExposedCommand(name, words[0], [.. words.Skip(1)]);
    }

    /// <summary>Splits a command line into words: blanks separate, '…' keeps everything, "…" keeps all but \" and \\, \ escapes one character.</summary>
    internal static IReadOnlyList<string> SplitWords(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }

                continue;
            }

            inWord = true;
            switch (c)
            {
                case '\'':
                    int close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        throw CommandException.Usage($"Unclosed ' in the command '{text}'.");
                    }

                    word.Append(text, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    i++;
                    while (i < text.Length && text[i] != '"')
                    {
                        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
                        {
                            i++;
                        }

                        word.Append(text[i]);
                        i++;
                    }

                    if (i >= text.Length)
                    {
                        throw CommandException.Usage($"Unclosed \" in the command '{text}'.");
                    }

                    break;
                case '\\' when i + 1 < text.Length:
                    word.Append(text[++i]);
                    break;
                default:
                    word.Append(c);
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}

/// <summary>Limits of <see cref="CommandService"/>.</summary>
internal sealed record CommandLimits
{
    /// <summary>Gets how many bytes of stdout and of stderr each are returned; the rest is read and dropped.</summary>
    public int MaxOutputBytes { get; init; } = 64 * 1024;

    /// <summary>Gets how long a command may run before it is killed and the call fails.</summary>
    public TimeSpan MaxTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets how many commands run at once; further calls wait for a slot.</summary>
    public int MaxConcurrent { get; init; } = 4;
}

/// <summary>What one call did, for the serve command's output.</summary>
internal sealed record CommandRun(NodeId Caller, string Method, IReadOnlyList<string> Arguments, int? ExitCode, TimeSpan Duration, string? Error);

/// <summary>
/// The service <c>ataraxia serve</c> offers: each exposed name is a method that runs its command with the caller's
/// arguments appended as separate process arguments (never through a shell) and returns
/// <c>{ exitCode, stdout, stderr, truncated }</c>.
/// </summary>
internal sealed class CommandService : IDisposable
{
    private readonly Dictionary<string, ExposedCommand> _commands;
    private readonly HashSet<NodeId> _allowed;
    private readonly CommandLimits _limits;
    private readonly Action<CommandRun>? _report;
    private readonly SemaphoreSlim _slots;

    public CommandService(IEnumerable<ExposedCommand> commands, IEnumerable<NodeId> allowed, CommandLimits limits, Action<CommandRun>? report = null)
    {
        _commands = new Dictionary<string, ExposedCommand>(StringComparer.Ordinal);
        foreach (ExposedCommand command in commands)
        {
            if (!_commands.TryAdd(command.Name, command))
            {
                throw CommandException.Usage($"--expose names '{command.Name}' twice.");
            }
        }

        _allowed = [.. allowed];
        _limits = limits;
        _report = report;
        _slots = new SemaphoreSlim(limits.MaxConcurrent, limits.MaxConcurrent);
    }

    /// <summary>Gets the names of the exposed commands.</summary>
    public IReadOnlyCollection<string> Names => _commands.Keys;

    /// <summary>The definition other nodes see: one method per exposed command, each taking any number of string arguments.</summary>
    public ServiceDefinition CreateDefinition(string serviceId) => new(
        serviceId,
        [.. _commands.Values.Select(c => new ServiceMethodDefinition(
            c.Name,
            $"Runs {Path.GetFileName(c.Program)}; returns {{ exitCode, stdout, stderr, truncated }}",
            "any",
            [new ServiceParameterDefinition("args", "Arguments appended to the command", Optional: true, Rest: true, "string")]))],
        []);

    /// <summary>Runs one call; an exception fails the call with its message.</summary>
    public async ValueTask<CborValue> HandleAsync(ServiceInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var clock = Stopwatch.StartNew();
        List<string> arguments = [];
        try
        {
            if (_allowed.Count > 0 && !_allowed.Contains(invocation.Caller))
            {
                throw new UnauthorizedAccessException($"Node {invocation.Caller} is not allowed to call `{invocation.Method}`.");
            }

            ExposedCommand command = _commands[invocation.Method];
            for (int i = 0; i < invocation.Arguments.Count; i++)
            {
                arguments.Add(ToArgument(invocation.Arguments[i], i + 1));
            }

            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            CborMap result;
            try
            {
                result = await RunAsync(command, invocation.Caller, arguments, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
            }

            _report?.Invoke(new CommandRun(invocation.Caller, invocation.Method, arguments, (int)result["exitCode"].AsInt64(), clock.Elapsed, null));
            return result;
        }
        catch (Exception ex)
        {
            _report?.Invoke(new CommandRun(invocation.Caller, invocation.Method, arguments, null, clock.Elapsed, ex.Message));
            throw;
        }
    }

    public void Dispose() => _slots.Dispose();

    private static string ToArgument(CborValue value, int position) => value switch
    {
        CborText text => text.Value,
        CborInteger integer => integer.Value.ToString(CultureInfo.InvariantCulture),
        CborFloat number => number.ToString(),
        { Kind: CborValueKind.Boolean } => value.AsBoolean() ? "true" : "false",
        _ => throw new ArgumentException($"Argument {position} is a {value.Kind.ToString().ToLowerInvariant()}; commands take strings, numbers and booleans."),
    };

    private async Task<CborMap> RunAsync(ExposedCommand command, NodeId caller, List<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(command.Program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in command.Arguments.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ATARAXIA_CALLER"] = caller.ToString();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Could not start {command.Program}: {ex.Message}", ex);
        }

        process.StandardInput.Close();
        using var reading = new CancellationTokenSource();
        Task<(byte[] Bytes, bool Truncated)> stdout = ReadLimitedAsync(process.StandardOutput.BaseStream, _limits.MaxOutputBytes, reading.Token);
        Task<(byte[] Bytes, bool Truncated)> stderr = ReadLimitedAsync(process.StandardError.BaseStream, _limits.MaxOutputBytes, reading.Token);
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(_limits.MaxTime);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await reading.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                throw new TimeoutException($"`{command.Name}` ran longer than {Duration.Format(_limits.MaxTime)} and was stopped.");
            }
        }

        // A child the command left running may hold the pipes open: take what arrived within a moment.
        reading.CancelAfter(TimeSpan.FromSeconds(1));
        (byte[] Bytes, bool Truncated) output = await stdout.ConfigureAwait(false);
        (byte[] Bytes, bool Truncated) errors = await stderr.ConfigureAwait(false);
        return new CborMap
        {
            ["exitCode"] = process.ExitCode,
            ["stdout"] = Encoding.UTF8.GetString(output.Bytes),
            ["stderr"] = Encoding.UTF8.GetString(errors.Bytes),
            ["truncated"] = output.Truncated || errors.Truncated,
        };
    }

    private static async Task<(byte[] Bytes, bool Truncated)> ReadLimitedAsync(Stream stream, int limit, CancellationToken cancellationToken)
    {
        var kept = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        bool truncated = false;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                int keep = (int)Math.Min(read, limit - kept.Length);
                if (keep > 0)
                {
                    kept.Write(buffer.AsSpan(0, keep));
                }

                truncated |= keep < read;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return (kept.ToArray(), truncated);
    }
}
