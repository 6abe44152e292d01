using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Ataraxia.Authentication;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// The C# side of an interop test: a <see cref="Network"/> over a <see cref="PlainStreamTransport"/> (listening,
/// and connecting on demand) and a <see cref="WebSocketClientTransport"/>, with a recording logger, a timeline of
/// availability events and every received message kept for bounded waits.
/// </summary>
public sealed class DotNetNode : IAsyncDisposable
{
    private readonly List<string> _timeline = [];
    private readonly List<Message> _messages = [];
    private readonly List<(Func<Message, bool> Predicate, TaskCompletionSource<Message> Completion)> _messageWaiters = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task _reader = Task.CompletedTask;

    /// <summary>Creates the node; call <see cref="JoinAsync"/> to start it.</summary>
    /// <param name="name">A name for transcripts.</param>
    /// <param name="secret">The shared secret; <see langword="null"/> for anonymous authentication.</param>
    /// <param name="session">Session settings (timeouts); the defaults when <see langword="null"/>.</param>
    /// <param name="configure">Adjusts the network settings.</param>
    public DotNetNode(string name, string? secret = null, PeerSessionOptions? session = null, Func<NetworkOptions, NetworkOptions>? configure = null)
    {
        Name = name;
        var options = new NetworkOptions
        {
            Name = "interop",
            Transports = [Plain, WebSocket],
            Authentication = secret is null ? [AnonymousAuth.Instance] : [new SharedSecretAuth(secret)],
            Session = session ?? new PeerSessionOptions(),
            LoggerFactory = Logs,
        };
        Network = new Network(configure is null ? options : configure(options));
        Network.NodeAvailable += (_, e) => Note($"NodeAvailable {Hex(e.Node.Id)}");
        Network.NodeUnavailable += (_, e) => Note($"NodeUnavailable {Hex(e.Node.Id)}");
    }

    /// <summary>Gets the name given to the node in transcripts.</summary>
    public string Name { get; }

    public Network Network { get; }

    /// <summary>Gets the plain TCP transport: it listens on <see cref="PlainStreamTransport.Port"/> and connects on demand.</summary>
    public PlainStreamTransport Plain { get; } = new();

    /// <summary>Gets the WebSocket client transport.</summary>
    public WebSocketClientTransport WebSocket { get; } = new();

    public TestLoggerFactory Logs { get; } = new();

    public NodeId Id => Network.Id;

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

    /// <summary>Returns whether <paramref name="id"/> is currently available.</summary>
    public bool Sees(NodeId id) => Network.TryGetNode(id, out _);

    /// <summary>Waits until <paramref name="id"/> is available (returns at once if it already is).</summary>
    public async Task<Node> WaitForNodeAsync(NodeId id, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
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

            return await WithTranscript(available.Task.DefaultTimeout(timeout, file, line));
        }
        finally
        {
            Network.NodeAvailable -= handler;
        }
    }

    /// <summary>Waits until <paramref name="id"/> is not available (returns at once if it is not).</summary>
    public async Task WaitForNodeGoneAsync(NodeId id, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        EventHandler<NodeEventArgs> handler = (_, e) =>
        {
            if (e.Node.Id == id)
            {
                gone.TrySetResult();
            }
        };
        Network.NodeUnavailable += handler;
        try
        {
            if (!Network.TryGetNode(id, out _))
            {
                return;
            }

            await WithTranscript(gone.Task.DefaultTimeout(timeout, file, line));
        }
        finally
        {
            Network.NodeUnavailable -= handler;
        }
    }

    /// <summary>Waits for the first message (received before or after the call) of the given type.</summary>
    public async Task<Message> WaitForMessageAsync(string type, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
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

        return await WithTranscript(completion.Task.DefaultTimeout(timeout, file, line));
    }

    /// <summary>Gets whether a message of the given type was received so far.</summary>
    public bool HasReceived(string type)
    {
        lock (_messages)
        {
            return _messages.Any(m => m.Type == type);
        }
    }

    /// <summary>Waits for the outcome of the next connection the plain transport accepted (or opened).</summary>
    public async Task<ConnectionResult> WaitForConnectionAsync([CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        await WithTranscript(Plain.Connections.ReadAsync().AsTask().DefaultTimeout(null, file, line));

    /// <summary>Connects over plain TCP and fails with the transcript if negotiation fails.</summary>
    public async Task<ConnectionResult> ConnectAsync(int port, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Succeeded(await WithTranscript(Plain.ConnectAsync(port).DefaultTimeout(null, file, line)));

    /// <summary>Connects over a WebSocket and fails with the transcript if negotiation fails.</summary>
    public async Task<ConnectionResult> ConnectWebSocketAsync(int port, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Succeeded(await WithTranscript(WebSocket.ConnectAsync(port).DefaultTimeout(null, file, line)));

    /// <summary>Fails if the C# side logged an error (STYLE.md: a logged error fails the test).</summary>
    public void AssertNoErrorsLogged()
    {
        List<TestLoggerFactory.LogEntry> errors = [.. Logs.Errors];
        Assert.True(errors.Count == 0, $"The C# node {Name} logged errors:\n{Transcript()}");
    }

    public string Transcript()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"--- C# node {Name} {IdHex}: timeline ---");
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
        await Plain.DisposeAsync();
        await WebSocket.DisposeAsync();
        await _reader;
    }

    private ConnectionResult Succeeded(ConnectionResult result)
    {
        Assert.True(result.Error is null, $"Negotiation from {Name} failed: {result.Error}\n{Transcript()}");
        return result;
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

    private async Task WithTranscript(Task task)
    {
        try
        {
            await task;
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{Transcript()}", ex);
        }
    }
}
