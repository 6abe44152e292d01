using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Ataraxia.Authentication;
using Ataraxia.Testing;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// The C# side of an interop test: a <see cref="Network"/> over a <see cref="PlainStreamTransport"/>, with a
/// recording logger, a timeline of availability events and every received message kept for bounded waits.
/// </summary>
public sealed class DotNetNode : IAsyncDisposable
{
    private readonly List<string> _timeline = [];
    private readonly List<Message> _messages = [];
    private readonly List<(Func<Message, bool> Predicate, TaskCompletionSource<Message> Completion)> _messageWaiters = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task _reader = Task.CompletedTask;

    public DotNetNode(PlainStreamTransport transport, string? secret)
    {
        ArgumentNullException.ThrowIfNull(transport);
        Transport = transport;
        Network = new Network(new NetworkOptions
        {
            Name = "interop",
            Transports = [transport],
            Authentication = secret is null ? [AnonymousAuth.Instance] : [new SharedSecretAuth(secret)],
            LoggerFactory = Logs,
        });
        Network.NodeAvailable += (_, e) => Note($"NodeAvailable {Hex(e.Node.Id)}");
        Network.NodeUnavailable += (_, e) => Note($"NodeUnavailable {Hex(e.Node.Id)}");
    }

    public Network Network { get; }

    public PlainStreamTransport Transport { get; }

    public TestLoggerFactory Logs { get; } = new();

    public string IdHex => Hex(Network.Id);

    public IReadOnlyList<string> Timeline
    {
        get
        {
            lock (_timeline)
            {
                return [.. _timeline];
            }
        }
    }

    public static string Hex(NodeId id) => Convert.ToHexStringLower(id.ToByteArray());

    public async Task JoinAsync()
    {
        await Network.JoinAsync().DefaultTimeout();
        _reader = Task.Run(ReadMessagesAsync);
    }

    /// <summary>Waits until <paramref name="id"/> is available (returns at once if it already is).</summary>
    public async Task<Node> WaitForNodeAsync(NodeId id, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var available = new TaskCompletionSource<Node>(TaskCreationOptions.RunContinuationsAsynchronously);
        EventHandler<NodeEventArgs> handler = (_, e) =>
        {
            if (e.Node.Id == id)
            {
                available.TrySetResult(e.Node);
            }
        };
        Network.NodeAvailable += handler;
        try
        {
            if (Network.TryGetNode(id, out Node? node))
            {
                return node;
            }

            return await WithTranscript(available.Task.DefaultTimeout(null, file, line));
        }
        finally
        {
            Network.NodeAvailable -= handler;
        }
    }

    /// <summary>Waits for the first message (received before or after the call) of the given type.</summary>
    public async Task<Message> WaitForMessageAsync(string type, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var completion = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool Matches(Message m) => m.Type == type;
        lock (_messages)
        {
            if (_messages.FirstOrDefault(Matches) is { } existing)
            {
                return existing;
            }

            _messageWaiters.Add((Matches, completion));
        }

        return await WithTranscript(completion.Task.DefaultTimeout(null, file, line));
    }

    /// <summary>Waits for the outcome of the next connection of the transport.</summary>
    public async Task<PlainConnectionResult> WaitForConnectionAsync([CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        await WithTranscript(Transport.Connections.ReadAsync().AsTask().DefaultTimeout(null, file, line));

    /// <summary>Fails if the C# side logged an error (STYLE.md: a logged error fails the test).</summary>
    public void AssertNoErrorsLogged()
    {
        List<TestLoggerFactory.LogEntry> errors = [.. Logs.Errors];
        Assert.True(errors.Count == 0, $"The C# node logged errors:\n{Transcript()}");
    }

    public string Transcript()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"--- C# node {IdHex}: timeline ---");
        foreach (string entry in Timeline)
        {
            text.AppendLine(entry);
        }

        text.AppendLine("--- C# log ---");
        foreach (TestLoggerFactory.LogEntry entry in Logs.Entries)
        {
            text.Append(CultureInfo.InvariantCulture, $"[{entry.Level}] {entry.Category.Split('.')[^1]}#{entry.EventId.Id}: {entry.Message}");
            text.AppendLine(entry.Exception is null ? string.Empty : $" ({entry.Exception.GetType().Name}: {entry.Exception.Message})");
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await Network.DisposeAsync();
        await Transport.DisposeAsync();
        await _reader;
    }

    private void Note(string what)
    {
        lock (_timeline)
        {
            _timeline.Add($"{_clock.ElapsedMilliseconds,6} ms {what}");
        }
    }

    private async Task ReadMessagesAsync()
    {
        await foreach (Message message in Network.ReadMessagesAsync())
        {
            Note($"Message {message.Type} from {Hex(message.Source.Id)} ({message.RawData.Length} bytes)");
            List<TaskCompletionSource<Message>> matched = [];
            lock (_messages)
            {
                _messages.Add(message);
                foreach ((Func<Message, bool> predicate, TaskCompletionSource<Message> completion) in _messageWaiters)
                {
                    if (predicate(message))
                    {
                        matched.Add(completion);
                    }
                }

                _messageWaiters.RemoveAll(w => matched.Contains(w.Completion));
            }

            foreach (TaskCompletionSource<Message> completion in matched)
            {
                completion.TrySetResult(message);
            }
        }
    }

    private async Task<T> WithTranscript<T>(Task<T> task)
    {
        try
        {
            return await task;
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{Transcript()}", ex);
        }
    }
}
