using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Ataraxia.Testing;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// A real JavaScript Ataraxia node (<c>js/node.js</c>) in a child process, driven by JSON lines on stdin and
/// reporting JSON lines on stdout. Every event is kept, so a wait also sees events that arrived before it began.
/// </summary>
/// <remarks>
/// Stdout is read by one background task into a channel; one pump drains the channel into the event history and
/// completes the waiters. When the process exits, pending and later waits fail at once with its stderr.
/// <see cref="DisposeAsync"/> closes stdin (the node leaves its network, saying BYE, and exits), waits a moment
/// for that, then always kills the process tree.
/// </remarks>
public sealed class JsNode : IAsyncDisposable
{
    private static readonly TimeSpan ExitGracePeriod = TimeSpan.FromSeconds(3);

    private readonly Process _process;
    private readonly Channel<JsonObject> _lines = Channel.CreateUnbounded<JsonObject>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly List<JsonObject> _events = [];
    private readonly List<Waiter> _waiters = [];
    private readonly StringBuilder _stderr = new();
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _reader;
    private readonly Task _pump;
    private Exception? _ended;
    private int _nextSeq;
    private int _disposed;

    private JsNode(Process process, string name)
    {
        _process = process;
        Name = name;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        _reader = Task.Run(ReadStdoutAsync);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Gets the name given to the node (also its network name).</summary>
    public string Name { get; }

    /// <summary>Gets the node's id, as reported by its <c>ready</c> event.</summary>
    public NodeId Id { get; private set; }

    /// <summary>Gets the lower-case hex of the node id, as used in the node's events.</summary>
    public string IdHex => Convert.ToHexStringLower(Id.ToByteArray());

    /// <summary>Gets a value indicating whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Gets the process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Gets the TCP port the node listens on, once <see cref="ListenAsync"/> ran.</summary>
    public int TcpPort { get; private set; }

    /// <summary>Gets the WebSocket port the node listens on, once <see cref="ListenWebSocketAsync"/> ran.</summary>
    public int WebSocketPort { get; private set; }

    /// <summary>Gets a snapshot of every event received so far.</summary>
    public IReadOnlyList<JsonObject> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Gets what the process wrote to stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts <c>node js/node.js</c> and waits for its <c>ready</c> event.</summary>
    /// <param name="name">The network name of the JavaScript node.</param>
    /// <param name="secret">The shared secret; <see langword="null"/> for anonymous authentication.</param>
    public static async Task<JsNode> StartAsync(string name, string? secret = null)
    {
        string node = JsEnvironment.Node ?? throw new InvalidOperationException(JsEnvironment.SkipReason);
        var startInfo = new ProcessStartInfo(node)
        {
            WorkingDirectory = JsEnvironment.JsDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(Path.Combine(JsEnvironment.JsDirectory, "node.js"));
        startInfo.ArgumentList.Add("--name");
        startInfo.ArgumentList.Add(name);
        if (secret is not null)
        {
            startInfo.ArgumentList.Add("--secret");
            startInfo.ArgumentList.Add(secret);
        }

        // The library's debug output goes to stderr; keep it off so stderr holds only real problems.
        startInfo.Environment.Remove("DEBUG");
        var process = new Process { StartInfo = startInfo };
        process.Start();
        var jsNode = new JsNode(process, name);
        try
        {
            JsonObject ready = await jsNode.WaitForEventAsync(e => Is(e, "ready"));
            jsNode.Id = new NodeId(Convert.FromHexString((string)ready["id"]!));
            return jsNode;
        }
        catch
        {
            await jsNode.DisposeAsync();
            throw;
        }
    }

    /// <summary>Returns whether an event has the given name.</summary>
    public static bool Is(JsonObject e, string name) => (string?)e["event"] == name;

    /// <summary>Listens for plain TCP connections on an OS-assigned port.</summary>
    public async Task<int> ListenAsync() =>
        TcpPort = (int)(await RequestAsync(new JsonObject { ["cmd"] = "listen" }, "listening"))["port"]!;

    /// <summary>Listens for WebSocket connections on an OS-assigned port.</summary>
    public async Task<int> ListenWebSocketAsync() =>
        WebSocketPort = (int)(await RequestAsync(new JsonObject { ["cmd"] = "ws-listen" }, "ws-listening"))["port"]!;

    /// <summary>Opens a plain TCP connection (returns once TCP is connected, not once negotiated).</summary>
    public Task ConnectAsync(int port) => RequestAsync(new JsonObject { ["cmd"] = "connect", ["port"] = port }, "connected");

    /// <summary>Opens a WebSocket connection (returns once the WebSocket is open, not once negotiated).</summary>
    public Task ConnectWebSocketAsync(int port) => RequestAsync(new JsonObject { ["cmd"] = "ws-connect", ["port"] = port }, "ws-connected");

    /// <summary>Sends a message (data in the JSON form of <see cref="CborJson"/>) and waits for the acknowledgement.</summary>
    public Task SendAsync(NodeId to, string type, JsonNode? data, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        RequestAsync(new JsonObject { ["cmd"] = "send", ["to"] = Hex(to), ["type"] = type, ["data"] = data }, "sent", timeout: null, file, line);

    /// <summary>Gets the ids (hex) of the nodes the JavaScript network currently lists.</summary>
    public async Task<HashSet<string>> NodesAsync()
    {
        JsonObject reply = await RequestAsync(new JsonObject { ["cmd"] = "nodes" }, "nodes");
        return [.. reply["ids"]!.AsArray().Select(id => (string)id!)];
    }

    /// <summary>Gets the ids (hex) of the other members of a group, as the JavaScript <c>NamedGroup</c> lists them.</summary>
    public async Task<HashSet<string>> GroupMembersAsync(string group)
    {
        JsonObject reply = await RequestAsync(new JsonObject { ["cmd"] = "group-members", ["group"] = group }, "group-members");
        return [.. reply["ids"]!.AsArray().Select(id => (string)id!)];
    }

    /// <summary>Waits until the node lists <paramref name="id"/> as available (an <c>available</c> event, before or after the call).</summary>
    public Task<JsonObject> WaitForAvailableAsync(NodeId id, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        string hex = Hex(id);
        return WaitForEventAsync(e => Is(e, "available") && (string?)e["id"] == hex, timeout: null, file, line);
    }

    /// <summary>Waits for the first application message of the given type.</summary>
    public Task<JsonObject> WaitForMessageAsync(string type, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        WaitForEventAsync(e => Is(e, "message") && (string?)e["type"] == type, timeout, file, line);

    /// <summary>Kills the process at once (SIGKILL): no BYE, no goodbye; its sockets close.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().DefaultTimeout();
    }

    /// <summary>Sends a signal with <c>kill -SIGNAL pid</c>, e.g. <c>STOP</c> to freeze the process and <c>CONT</c> to resume it.</summary>
    public async Task SignalAsync(string signal)
    {
        string kill = JsEnvironment.Kill ?? throw new InvalidOperationException("kill is not on PATH.");
        (int exitCode, string output) = await JsEnvironment.RunAsync(kill, ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)], JsEnvironment.JsDirectory, TimeSpan.FromSeconds(10));
        Assert.True(exitCode == 0, $"kill -{signal} {_process.Id} failed with exit code {exitCode}: {output}");
    }

    private static string Hex(NodeId id) => Convert.ToHexStringLower(id.ToByteArray());

    /// <summary>Writes one command line to the node's stdin.</summary>
    public async Task SendCommandAsync(JsonObject command)
    {
        ArgumentNullException.ThrowIfNull(command);
        string line = command.ToJsonString();
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

    /// <summary>Sends a command with a fresh <c>seq</c> and waits for its reply (<paramref name="replyEvent"/>, or <c>error</c>, which throws).</summary>
    public async Task<JsonObject> RequestAsync(JsonObject command, string replyEvent, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(command);
        int seq = Interlocked.Increment(ref _nextSeq);
        command["seq"] = seq;
        Task<JsonObject> reply = WaitForEventAsync(e => (int?)e["seq"] == seq && (Is(e, replyEvent) || Is(e, "error")), timeout, file, line);
        await SendCommandAsync(command);
        JsonObject result = await reply;
        if (Is(result, "error"))
        {
            throw new InvalidOperationException($"The JavaScript node {Name} failed {command.ToJsonString()}: {result["message"]}\n{Transcript()}");
        }

        return result;
    }

    /// <summary>Waits for the first event (received before or after the call) that matches <paramref name="predicate"/>.</summary>
    /// <exception cref="TimeoutException">No such event within the timeout (<see cref="TaskTimeoutExtensions.DefaultTimeoutValue"/> by default); the message holds the transcript.</exception>
    /// <exception cref="InvalidOperationException">The process exited first.</exception>
    public async Task<JsonObject> WaitForEventAsync(Func<JsonObject, bool> predicate, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var waiter = new Waiter(predicate);
        lock (_events)
        {
            JsonObject? existing = _events.FirstOrDefault(predicate);
            if (existing is not null)
            {
                return existing;
            }

            if (_ended is not null)
            {
                throw new InvalidOperationException($"The JavaScript node {Name} has exited.\n{Transcript()}", _ended);
            }

            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Completion.Task.DefaultTimeout(timeout, file, line);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Waiting for an event of the JavaScript node {Name}.\n{Transcript()}", ex);
        }
        finally
        {
            lock (_events)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Gets the milliseconds since the process started, on the clock the test uses for its own notes.</summary>
    public long ElapsedMilliseconds => _clock.ElapsedMilliseconds;

    /// <summary>Fails if the node reported an exception that would have crashed a default node process, or exited.</summary>
    public void AssertHealthy()
    {
        List<JsonObject> uncaught = [.. Events.Where(e => Is(e, "uncaught") || (Is(e, "error") && e["seq"] is null))];
        Assert.True(uncaught.Count == 0, $"The JavaScript node {Name} reported errors:\n{string.Join('\n', uncaught.Select(e => e.ToJsonString()))}\n{Transcript()}");
        Assert.False(HasExited, $"The JavaScript node {Name} exited.\n{Transcript()}");
    }

    /// <summary>Formats the recent events and stderr for failure messages.</summary>
    public string Transcript(int maxEvents = 80)
    {
        IReadOnlyList<JsonObject> events = Events;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"--- JavaScript node {Name}: last {Math.Min(maxEvents, events.Count)} of {events.Count} events ---");
        foreach (JsonObject e in events.Skip(Math.Max(0, events.Count - maxEvents)))
        {
            text.AppendLine(e.ToJsonString());
        }

        string stderr = StandardError;
        if (stderr.Length > 0)
        {
            text.AppendLine("--- stderr ---").AppendLine(stderr);
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            // End of stdin: the node leaves its network (BYE to its peers) and exits by itself.
            await _stdinLock.WaitAsync();
            try
            {
                _process.StandardInput.Close();
            }
            finally
            {
                _stdinLock.Release();
            }

            using var grace = new CancellationTokenSource(ExitGracePeriod);
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
        }
        finally
        {
            try
            {
                // Always, even after a clean exit: nothing the node started may outlive the test.
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            await _process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(_reader, _pump);
            _process.Dispose();
            _stdinLock.Dispose();
        }
    }

    private async Task ReadStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                JsonObject e;
                try
                {
                    e = JsonNode.Parse(line)?.AsObject() ?? new JsonObject { ["event"] = "invalid", ["line"] = line };
                }
                catch (JsonException)
                {
                    e = new JsonObject { ["event"] = "invalid", ["line"] = line };
                }

                e["atMs"] = _clock.ElapsedMilliseconds;
                await _lines.Writer.WriteAsync(e);
            }
        }
        finally
        {
            _lines.Writer.TryComplete();
        }
    }

    private async Task PumpAsync()
    {
        await foreach (JsonObject e in _lines.Reader.ReadAllAsync())
        {
            List<Waiter> matched = [];
            lock (_events)
            {
                _events.Add(e);
                foreach (Waiter waiter in _waiters)
                {
                    if (waiter.Predicate(e))
                    {
                        matched.Add(waiter);
                    }
                }

                _waiters.RemoveAll(matched.Contains);
            }

            foreach (Waiter waiter in matched)
            {
                waiter.Completion.TrySetResult(e);
            }
        }

        // Stdout closed: the process is gone (or going). Nobody waits for events that cannot come.
        List<Waiter> pending;
        var ended = new InvalidOperationException($"The JavaScript node {Name} closed its stdout (exited).");
        lock (_events)
        {
            _ended = ended;
            pending = [.. _waiters];
            _waiters.Clear();
        }

        foreach (Waiter waiter in pending)
        {
            waiter.Completion.TrySetException(new InvalidOperationException($"{ended.Message}\n{Transcript()}"));
        }
    }

    private sealed class Waiter(Func<JsonObject, bool> predicate)
    {
        public Func<JsonObject, bool> Predicate { get; } = predicate;

        public TaskCompletionSource<JsonObject> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
