using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ataraxia.Throughput;

/// <summary>
/// One JavaScript Ataraxia node (<c>js/bench.js</c>) in a child process, driven by JSON lines on stdin and replying
/// with JSON lines on stdout. Every wait is bounded; disposing closes stdin (the node leaves and exits), then always
/// kills the process.
/// </summary>
public sealed class JsBenchNode : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitGracePeriod = TimeSpan.FromSeconds(3);

    private readonly Process _process;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly TaskCompletionSource<JsonObject> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _problems = [];
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private readonly Task _reader;
    private int _nextSeq;
    private int _disposed;

    private JsBenchNode(Process process)
    {
        _process = process;
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
    }

    /// <summary>Gets the node id, as the <c>ready</c> event reported it.</summary>
    public NodeId Id { get; private set; }

    /// <summary>Gets the version of node running the script (process.version).</summary>
    public string NodeVersion { get; private set; } = "?";

    /// <summary>Gets the node id in lower-case hex, the form <c>bench.js</c> uses.</summary>
    public string IdHex => Hex(Id);

    /// <summary>Starts <c>node bench.js --name <paramref name="name"/></c> in <paramref name="directory"/> and waits until it joined.</summary>
    public static async Task<JsBenchNode> StartAsync(string node, string directory, string name)
    {
        var startInfo = new ProcessStartInfo(node)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(Path.Combine(directory, "bench.js"));
        startInfo.ArgumentList.Add("--name");
        startInfo.ArgumentList.Add(name);

        // The library's debug output would go to stderr and slow every message down.
        startInfo.Environment.Remove("DEBUG");
        var process = new Process { StartInfo = startInfo };
        process.Start();
        var jsNode = new JsBenchNode(process);
        try
        {
            JsonObject ready = await jsNode._ready.Task.WaitAsync(StartTimeout);
            jsNode.Id = new NodeId(Convert.FromHexString((string)ready["id"]!));
            jsNode.NodeVersion = (string?)ready["node"] ?? "?";
            return jsNode;
        }
        catch (TimeoutException ex)
        {
            string diagnostics = jsNode.Diagnostics();
            await jsNode.DisposeAsync();
            throw new TimeoutException($"The JavaScript node did not start within {StartTimeout}. {diagnostics}", ex);
        }
        catch
        {
            await jsNode.DisposeAsync();
            throw;
        }
    }

    public static string Hex(NodeId id) => Convert.ToHexStringLower(id.ToByteArray());

    /// <summary>Listens for plain TCP connections on 127.0.0.1 and returns the port.</summary>
    public async Task<int> ListenAsync() =>
        (int)(await RequestAsync(new JsonObject { ["cmd"] = "listen" }, TimeSpan.FromSeconds(10)))["port"]!;

    /// <summary>Opens a plain TCP connection to 127.0.0.1:<paramref name="port"/>.</summary>
    public Task ConnectAsync(int port) =>
        RequestAsync(new JsonObject { ["cmd"] = "connect", ["port"] = port }, TimeSpan.FromSeconds(10));

    /// <summary>Waits until the JavaScript network lists <paramref name="id"/> as available.</summary>
    public Task WaitForNodeAsync(NodeId id) =>
        RequestAsync(new JsonObject { ["cmd"] = "wait-node", ["id"] = Hex(id), ["timeoutMs"] = 30000 }, TimeSpan.FromSeconds(35));

    /// <summary>Starts keeping <paramref name="window"/> sends of <paramref name="size"/> bytes unacknowledged.</summary>
    public Task FloodAsync(NodeId to, string type, int size, int window) =>
        RequestAsync(new JsonObject { ["cmd"] = "flood", ["to"] = Hex(to), ["type"] = type, ["size"] = size, ["window"] = window }, TimeSpan.FromSeconds(10));

    /// <summary>Stops the flood and returns (acknowledged, failed, still in flight, last error).</summary>
    public async Task<(long Sent, long Failed, long InFlight, string? LastError)> StopFloodAsync()
    {
        JsonObject reply = await RequestAsync(new JsonObject { ["cmd"] = "stop-flood", ["timeoutMs"] = 10000 }, TimeSpan.FromSeconds(20));
        return ((long)reply["sent"]!, (long)reply["failed"]!, (long)reply["inFlight"]!, (string?)reply["lastError"]);
    }

    /// <summary>Counts the messages of <paramref name="type"/> received during the run's duration, after its warm-up.</summary>
    /// <remarks>Bytes are those of the messages whose data was a byte string.</remarks>
    public async Task<(long Count, long Bytes, TimeSpan Elapsed)> MeasureAsync(string type, RunContext context)
    {
        JsonObject reply = await RequestAsync(
            new JsonObject
            {
                ["cmd"] = "measure",
                ["type"] = type,
                ["warmupMs"] = context.Warmup.TotalMilliseconds,
                ["durationMs"] = context.Duration.TotalMilliseconds,
            },
            context.Warmup + context.Duration + TimeSpan.FromSeconds(30));
        return ((long)reply["count"]!, (long)reply["bytes"]!, TimeSpan.FromMilliseconds((double)reply["elapsedMs"]!));
    }

    /// <summary>Answers every "ping" with a "pong" carrying the same data, from now on.</summary>
    public Task EchoAsync() =>
        RequestAsync(new JsonObject { ["cmd"] = "echo", ["type"] = "ping", ["reply"] = "pong" }, TimeSpan.FromSeconds(10));

    /// <summary>Measures round trips (ping → pong, one outstanding) to <paramref name="to"/>, in microseconds.</summary>
    public async Task<List<double>> RoundTripsAsync(NodeId to, int size, RunContext context)
    {
        JsonObject reply = await RequestAsync(
            new JsonObject
            {
                ["cmd"] = "rtt",
                ["to"] = Hex(to),
                ["size"] = size,
                ["samples"] = context.RttSamples,
                ["warmupMs"] = context.Warmup.TotalMilliseconds,
            },
            context.Warmup + TimeSpan.FromSeconds(60) + (context.RttSamples * TimeSpan.FromMilliseconds(5)));
        return [.. reply["samples"]!.AsArray().Select(s => (double)s!)];
    }

    /// <summary>Sends a command with a fresh <c>seq</c> and waits for its reply; an <c>error</c> reply throws.</summary>
    public async Task<JsonObject> RequestAsync(JsonObject command, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(command);
        int seq = Interlocked.Increment(ref _nextSeq);
        command["seq"] = seq;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[seq] = reply;
        try
        {
            if (_reader.IsCompleted)
            {
                throw new InvalidOperationException($"The JavaScript node has exited. {Diagnostics()}");
            }

            await _stdinLock.WaitAsync();
            try
            {
                await _process.StandardInput.WriteLineAsync(command.ToJsonString());
                await _process.StandardInput.FlushAsync();
            }
            finally
            {
                _stdinLock.Release();
            }

            JsonObject result;
            try
            {
                result = await reply.Task.WaitAsync(timeout);
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"The JavaScript node did not answer {command["cmd"]} within {timeout}. {Diagnostics()}", ex);
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException($"The JavaScript node exited before answering {command["cmd"]}. {Diagnostics()}", ex);
            }

            if ((string?)result["event"] == "error")
            {
                throw new InvalidOperationException($"The JavaScript node failed {command["cmd"]}: {result["message"]}. {Diagnostics()}");
            }

            return result;
        }
        finally
        {
            _pending.TryRemove(seq, out _);
        }
    }

    /// <summary>Gets what the node reported as going wrong (uncaught exceptions, stderr), for notes and errors.</summary>
    public string Diagnostics()
    {
        var text = new StringBuilder();
        lock (_problems)
        {
            foreach (string problem in _problems.TakeLast(5))
            {
                text.Append(problem).Append(' ');
            }
        }

        string stderr;
        lock (_stderr)
        {
            stderr = _stderr.ToString().Trim();
        }

        if (stderr.Length > 0)
        {
            text.Append("stderr: ").Append(stderr.Length > 2000 ? stderr[^2000..] : stderr);
        }

        return text.ToString().Trim();
    }

    /// <summary>Gets the uncaught exceptions and unsolicited errors the node reported.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems)
            {
                return [.. _problems];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            // End of stdin: the node leaves its network and exits by itself.
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
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
                await _reader.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"  JavaScript node {_process.Id} did not exit after being killed.");
            }

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
                JsonObject? e;
                try
                {
                    e = JsonNode.Parse(line) as JsonObject;
                }
                catch (JsonException)
                {
                    e = null;
                }

                if (e is null)
                {
                    AddProblem("invalid output: " + line);
                    continue;
                }

                string? name = (string?)e["event"];
                if (name == "ready")
                {
                    _ready.TrySetResult(e);
                }
                else if (e["seq"] is JsonValue seqValue && seqValue.TryGetValue(out int seq))
                {
                    if (_pending.TryGetValue(seq, out TaskCompletionSource<JsonObject>? waiter))
                    {
                        waiter.TrySetResult(e);
                    }
                }
                else if (name is "uncaught" or "error")
                {
                    AddProblem($"{name}: {e["message"]}");
                }
            }
        }
        catch (IOException)
        {
        }
        finally
        {
            var exited = new InvalidOperationException("The JavaScript node closed its output (exited).");
            _ready.TrySetException(exited);
            foreach (TaskCompletionSource<JsonObject> waiter in _pending.Values)
            {
                waiter.TrySetException(exited);
            }
        }
    }

    private void AddProblem(string problem)
    {
        lock (_problems)
        {
            _problems.Add(problem.Length > 500 ? problem[..500] : problem);
        }
    }
}
