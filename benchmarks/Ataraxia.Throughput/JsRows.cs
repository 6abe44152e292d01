using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Ataraxia.Tcp;
using Ataraxia.Testing;

namespace Ataraxia.Throughput;

/// <summary>
/// The JavaScript library on this machine (ataraxia 0.12.2 with ataraxia-transport-streams' StreamingPeer over a
/// plain TCP socket on 127.0.0.1, no encryption, anonymous authentication): JS→JS between two node processes, and
/// JS↔C# against a <see cref="Network"/> with a plaintext <see cref="TcpTransport"/>, which speaks the same framing.
/// </summary>
/// <remarks>
/// Senders keep <see cref="RunContext.Window"/> sends unacknowledged, in JavaScript as in C# (a send resolves on the
/// next hop's DATA_ACK). A JavaScript receiver counts in its own process over the same warm-up and duration as the
/// C# rows and reports the count once; round trips are timed by the pinging side. When node (or npm, to install the
/// packages) is missing, or a row fails, the rows are still listed, with the reason in their note.
/// </remarks>
public static class JsRows
{
    private const string NetworkName = "bench";
    private const string MessageType = "bench";
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private static readonly Row[] Templates =
    [
        new() { Id = "js-js-64", Name = "JS → JS, plain stream, 1 hop, 64 B", Baseline = "raw-64" },
        new() { Id = "js-js-16k", Name = "JS → JS, plain stream, 1 hop, 16 KiB", Baseline = "raw-16k", RatioOf = "MB/s" },
        new() { Id = "js-js-rtt", Name = "JS → JS, plain stream, round trip 64 B", Baseline = "raw-rtt" },
        new() { Id = "cs-js-64", Name = "C# → JS, plain stream, 1 hop, 64 B", Baseline = "raw-64", Js = "js-js-64" },
        new() { Id = "js-cs-64", Name = "JS → C#, plain stream, 1 hop, 64 B", Baseline = "raw-64", Js = "js-js-64" },
        new() { Id = "cs-js-16k", Name = "C# → JS, plain stream, 1 hop, 16 KiB", Baseline = "raw-16k", Js = "js-js-16k", RatioOf = "MB/s" },
        new() { Id = "js-cs-16k", Name = "JS → C#, plain stream, 1 hop, 16 KiB", Baseline = "raw-16k", Js = "js-js-16k", RatioOf = "MB/s" },
        new() { Id = "cs-js-rtt", Name = "C# → JS, plain stream, round trip 64 B (JS echoes)", Baseline = "raw-rtt", Js = "js-js-rtt" },
    ];

    public static async Task RunAsync(RunContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        (string? node, string? directory, string? skipReason) = await PrepareAsync();
        if (skipReason is not null)
        {
            foreach (Row template in Templates)
            {
                context.Report.Add(template with { Note = "skipped: " + skipReason });
            }

            return;
        }

        var js = new JsSetup(node!, directory!);
        await AddAsync(context, "js-js-64", () => JsToJsAsync(js, 64, context));
        await AddAsync(context, "js-js-16k", () => JsToJsAsync(js, 16 * 1024, context));
        await AddAsync(context, "js-js-rtt", () => JsToJsRoundTripAsync(js, context));
        await AddAsync(context, "cs-js-64", () => CsToJsAsync(js, 64, context));
        await AddAsync(context, "js-cs-64", () => JsToCsAsync(js, 64, context));
        await AddAsync(context, "cs-js-16k", () => CsToJsAsync(js, 16 * 1024, context));
        await AddAsync(context, "js-cs-16k", () => JsToCsAsync(js, 16 * 1024, context));
        await AddAsync(context, "cs-js-rtt", () => CsToJsRoundTripAsync(js, context));
    }

    private static Row Template(string id) => Templates.Single(t => t.Id == id);

    private static string ThroughputId(string direction, int size) => $"{direction}-{(size == 64 ? "64" : "16k")}";

    /// <summary>Measures one row; a failure becomes the row's note (and the whole exception goes to stderr).</summary>
    private static async Task AddAsync(RunContext context, string id, Func<Task<Row>> measure)
    {
        Row row;
        try
        {
            row = await measure();
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or SocketException or Win32Exception or MessageDeliveryException or FormatException)
        {
            await Console.Error.WriteLineAsync($"  {id} failed: {ex}");
            string message = ex.Message.ReplaceLineEndings(" ");
            row = Template(id) with { Note = "failed: " + (message.Length > 400 ? message[..400] + "…" : message) };
        }

        context.Report.Add(row);
    }

    private static async Task<Row> JsToJsAsync(JsSetup js, int size, RunContext context)
    {
        await using JsBenchNode receiver = await js.StartAsync();
        await using JsBenchNode sender = await js.StartAsync();
        await sender.ConnectAsync(await receiver.ListenAsync());
        await sender.WaitForNodeAsync(receiver.Id);
        await receiver.WaitForNodeAsync(sender.Id);

        await sender.FloodAsync(receiver.Id, MessageType, size, TcpRows.WindowFor(size, context));
        (long count, long bytes, TimeSpan elapsed) = await receiver.MeasureAsync(MessageType, context);
        (_, long failed, long inFlight, string? lastError) = await sender.StopFloodAsync();
        double rate = count / elapsed.TotalSeconds;
        return Template(ThroughputId("js-js", size)) with
        {
            MessagesPerSecond = rate,
            MegabytesPerSecond = rate * size / 1e6,
            Note = Join(
                $"two node {sender.NodeVersion} processes (ataraxia 0.12.2, StreamingPeer over plain TCP), window {TcpRows.WindowFor(size, context)} in JS too",
                SizeProblem(count, bytes, size),
                SenderProblems(failed, inFlight, lastError),
                Problems(sender, receiver)),
        };
    }

    private static async Task<Row> JsToJsRoundTripAsync(JsSetup js, RunContext context)
    {
        await using JsBenchNode server = await js.StartAsync();
        await using JsBenchNode client = await js.StartAsync();
        await client.ConnectAsync(await server.ListenAsync());
        await client.WaitForNodeAsync(server.Id);
        await server.WaitForNodeAsync(client.Id);
        await server.EchoAsync();
        List<double> samples = await client.RoundTripsAsync(server.Id, 64, context);
        Row template = Template("js-js-rtt");
        return Measure.LatencyRow(template.Id, template.Name, samples, baseline: template.Baseline) with
        {
            Note = Join("timed in the pinging node process with process.hrtime", Problems(client, server)),
        };
    }

    private static async Task<Row> CsToJsAsync(JsSetup js, int size, RunContext context)
    {
        await using JsBenchNode receiver = await js.StartAsync();
        await using CsNode cs = await CsNode.ConnectAsync(receiver, await receiver.ListenAsync());
        byte[] payload = TcpRows.Payload(size);
        using var stop = new CancellationTokenSource();
        long failures = 0;
        Network sender = cs.Network;
        NodeId target = receiver.Id;
        Task[] workers = [.. Enumerable.Range(0, TcpRows.WindowFor(size, context)).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await sender.SendEncodedAsync(target, MessageType, payload);
                }
                catch (MessageDeliveryException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }))];

        (long count, long bytes, TimeSpan elapsed) = await receiver.MeasureAsync(MessageType, context);
        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(StopTimeout);
        double rate = count / elapsed.TotalSeconds;
        return Template(ThroughputId("cs-js", size)) with
        {
            MessagesPerSecond = rate,
            MegabytesPerSecond = rate * size / 1e6,
            Note = Join(size == 64 ? "C# TcpTransport (Tls = null) dials the JS listener; the JS node counts" : null, failures > 0 ? $"{failures} sends failed" : null, SizeProblem(count, bytes, size), Problems(receiver)),
        };
    }

    private static async Task<Row> JsToCsAsync(JsSetup js, int size, RunContext context)
    {
        await using JsBenchNode sender = await js.StartAsync();
        await using CsNode cs = await CsNode.ConnectAsync(sender, await sender.ListenAsync());
        long received = 0;
        long wrongSize = 0;
        int encodedSize = TcpRows.Payload(size).Length;
        Task reader = Task.Run(async () =>
        {
            await foreach (Message message in cs.Network.ReadMessagesAsync())
            {
                Interlocked.Increment(ref received);
                if (message.RawData.Length != encodedSize)
                {
                    Interlocked.Increment(ref wrongSize);
                }
            }
        });

        await sender.FloodAsync(cs.Network.Id, MessageType, size, TcpRows.WindowFor(size, context));
        (long count, TimeSpan elapsed) = await Measure.CountAsync(() => Interlocked.Read(ref received), context);
        (_, long failed, long inFlight, string? lastError) = await sender.StopFloodAsync();
        await cs.DisposeAsync();
        await reader.WaitAsync(StopTimeout);
        double rate = count / elapsed.TotalSeconds;
        return Template(ThroughputId("js-cs", size)) with
        {
            MessagesPerSecond = rate,
            MegabytesPerSecond = rate * size / 1e6,
            Note = Join(
                size == 64 ? "C# TcpTransport (Tls = null) dials the JS listener, the JS node floods; C# counts" : null,
                wrongSize > 0 ? $"{wrongSize} messages were not a {size}-byte byte string" : null,
                SenderProblems(failed, inFlight, lastError),
                Problems(sender)),
        };
    }

    private static async Task<Row> CsToJsRoundTripAsync(JsSetup js, RunContext context)
    {
        await using JsBenchNode server = await js.StartAsync();
        await using CsNode cs = await CsNode.ConnectAsync(server, await server.ListenAsync());
        await server.EchoAsync();
        byte[] payload = TcpRows.Payload(64);
        Network client = cs.Network;
        using var deadline = new CancellationTokenSource(context.Warmup + TimeSpan.FromSeconds(60) + (context.RttSamples * TimeSpan.FromMilliseconds(5)));
        IAsyncEnumerator<Message> replies = client.ReadMessagesAsync(deadline.Token).GetAsyncEnumerator(deadline.Token);
        var samples = new List<double>(context.RttSamples);
        Stopwatch warmup = Stopwatch.StartNew();
        try
        {
            while (samples.Count < context.RttSamples)
            {
                long start = Stopwatch.GetTimestamp();
                ValueTask send = client.SendEncodedAsync(server.Id, "ping", payload, deadline.Token);
                if (!await replies.MoveNextAsync())
                {
                    throw new InvalidOperationException("The C# node stopped receiving.");
                }

                double micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                await send;
                if (warmup.Elapsed > context.Warmup)
                {
                    samples.Add(micros);
                }
            }
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"The round trips did not finish in time ({samples.Count} of {context.RttSamples} samples). {server.Diagnostics()}", ex);
        }
        finally
        {
            await replies.DisposeAsync();
        }

        Row template = Template("cs-js-rtt");
        return Measure.LatencyRow(template.Id, template.Name, samples, baseline: template.Baseline, js: template.Js) with
        {
            Note = Problems(server),
        };
    }

    /// <summary>Says so when the JavaScript receiver did not get byte strings of the size sent.</summary>
    private static string? SizeProblem(long count, long bytes, int size) =>
        bytes == count * size ? null : $"the JS receiver got {bytes} bytes of data in {count} messages of {size} B";

    private static string? SenderProblems(long failed, long inFlight, string? lastError) =>
        Join(
            failed > 0 ? $"{failed} JS sends failed (last: {lastError})" : null,
            inFlight > 0 ? $"{inFlight} JS sends still unacknowledged 10 s after stopping" : null);

    private static string? Problems(params JsBenchNode[] nodes)
    {
        List<string> problems = [.. nodes.SelectMany(n => n.Problems)];
        return problems.Count == 0 ? null : $"JS reported: {string.Join("; ", problems.Take(3))}";
    }

    private static string? Join(params string?[] parts)
    {
        string joined = string.Join("; ", parts.Where(p => !string.IsNullOrEmpty(p)));
        return joined.Length == 0 ? null : joined;
    }

    /// <summary>
    /// Finds node and the js folder (the directory holding Ataraxia.sln, then benchmarks/Ataraxia.Throughput/js) and
    /// installs the pinned packages with <c>npm ci</c> when node_modules is missing or older than package-lock.json.
    /// </summary>
    private static async Task<(string? Node, string? Directory, string? SkipReason)> PrepareAsync()
    {
        string? directory = FindJsDirectory();
        if (directory is null)
        {
            return (null, null, "benchmarks/Ataraxia.Throughput/js was not found above " + AppContext.BaseDirectory);
        }

        string? node = ExternalProgram.FindOnPath("node");
        if (node is null)
        {
            return (null, null, "node is not on PATH; install Node.js 20 to measure the JavaScript rows");
        }

        if (IsInstalled(directory))
        {
            return (node, directory, null);
        }

        string? npm = ExternalProgram.FindOnPath("npm");
        if (npm is null)
        {
            return (null, null, $"npm is not on PATH and {directory}/node_modules is not installed");
        }

        await Console.Error.WriteLineAsync($"  npm ci in {directory}");
        int exitCode;
        string output;
        try
        {
            (exitCode, output) = await ExternalProgram.RunAsync(npm, ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=warn"], directory, InstallTimeout);
        }
        catch (TimeoutException ex)
        {
            (exitCode, output) = (-1, ex.Message);
        }

        if (exitCode != 0 || !IsInstalled(directory))
        {
            await Console.Error.WriteLineAsync(output);
            string tail = output.Trim().ReplaceLineEndings(" ");
            return (null, null, $"npm ci failed (exit code {exitCode}): {(tail.Length > 300 ? tail[^300..] : tail)}");
        }

        return (node, directory, null);
    }

    private static string? FindJsDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ataraxia.sln")))
            {
                string js = Path.Combine(dir.FullName, "benchmarks", "Ataraxia.Throughput", "js");
                return File.Exists(Path.Combine(js, "bench.js")) ? js : null;
            }
        }

        return null;
    }

    /// <summary>npm writes node_modules/.package-lock.json at the end of every install; not older than package-lock.json means current.</summary>
    private static bool IsInstalled(string directory)
    {
        var installed = new FileInfo(Path.Combine(directory, "node_modules", ".package-lock.json"));
        var locked = new FileInfo(Path.Combine(directory, "package-lock.json"));
        return installed.Exists && locked.Exists && installed.LastWriteTimeUtc >= locked.LastWriteTimeUtc;
    }

    /// <summary>Where the JavaScript nodes come from: node and the js folder.</summary>
    private sealed record JsSetup(string Node, string Directory)
    {
        public Task<JsBenchNode> StartAsync() => JsBenchNode.StartAsync(Node, Directory, NetworkName);
    }

    /// <summary>A C# node (plaintext TCP, anonymous) connected to one JavaScript node, both seeing each other.</summary>
    private sealed class CsNode(Network network) : IAsyncDisposable
    {
        private int _disposed;

        public Network Network => network;

        public static async Task<CsNode> ConnectAsync(JsBenchNode js, int port)
        {
            var transport = new TcpTransport(new TcpTransportOptions
            {
                BindAddresses = [IPAddress.Loopback],
                Listen = false,
                Tls = null,
                Peers = [new DnsEndPoint("127.0.0.1", port)],
            });
            var network = new Network(new NetworkOptions
            {
                Name = NetworkName,
                Transports = [transport],
                IncomingMessageCapacity = 65536,
                IncomingMessageFullMode = BoundedChannelFullMode.Wait,
                MaxPendingSends = 1 << 20,
            });
            var node = new CsNode(network);
            try
            {
                await network.JoinAsync();
                await TcpRows.WaitUntilAsync(() => network.TryGetNode(js.Id, out _), ConnectTimeout);
                await js.WaitForNodeAsync(network.Id);
                return node;
            }
            catch (TimeoutException ex)
            {
                await node.DisposeAsync();
                throw new TimeoutException($"The C# and JavaScript nodes did not see each other within {ConnectTimeout}. {js.Diagnostics()}", ex);
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await network.LeaveAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }

            await network.DisposeAsync();
        }
    }
}
