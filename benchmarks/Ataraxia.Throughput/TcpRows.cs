using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Ataraxia.Cbor;
using Ataraxia.Tcp;

namespace Ataraxia.Throughput;

/// <summary>Ataraxia over its TCP transport on 127.0.0.1: one hop, one and two routing hops, plaintext and TLS.</summary>
public static class TcpRows
{
    public static async Task RunAsync(RunContext context)
    {
        const int Small = 64;
        const int Large = 16 * 1024;
        (string Id, string Name, int Nodes, bool Tls, int Size, Row Template)[] throughput =
        [
            // Rows that are compared with each other run back to back.
            ("tcp-64", "Ataraxia TCP plaintext, 1 hop, 64 B", 2, false, Small, Compare("raw-64", "js-js-64", "≥ 1,000,000 msg/s")),
            ("hop1-64", "Ataraxia TCP plaintext, via 1 router, 64 B", 3, false, Small, Compare("tcp-64", null, "≥ 50 % of 1 hop")),
            ("hop2-64", "Ataraxia TCP plaintext, via 2 routers, 64 B", 4, false, Small, Compare("tcp-64", null, null)),
            ("tls-64", "Ataraxia TCP TLS, 1 hop, 64 B", 2, true, Small, Compare("raw-64", "js-js-64", "≥ 500,000 msg/s")),
            ("tcp-16k", "Ataraxia TCP plaintext, 1 hop, 16 KiB", 2, false, Large, Compare("raw-16k", "js-js-16k", "≥ 50 % of raw MB/s", bulk: true)),
            ("hop1-16k", "Ataraxia TCP plaintext, via 1 router, 16 KiB", 3, false, Large, Compare("tcp-16k", null, null, bulk: true)),
            ("hop2-16k", "Ataraxia TCP plaintext, via 2 routers, 16 KiB", 4, false, Large, Compare("tcp-16k", null, null, bulk: true)),
            ("tls-16k", "Ataraxia TCP TLS, 1 hop, 16 KiB", 2, true, Large, Compare("raw-16k", "js-js-16k", null, bulk: true)),
        ];
        // The first rows of a process would otherwise pay for the JIT's tiering (and its profile-guided recompilation)
        // inside the measured window: one unreported run brings the hot path to its final code first.
        await ThroughputAsync("warm-up", "warm-up", 2, tls: false, Small, context with { Duration = TimeSpan.FromSeconds(2), Sampler = null });

        foreach ((string id, string name, int nodes, bool tls, int size, Row template) in throughput)
        {
            if (context.Wants(id))
            {
                Settle();
                Row measured = await ThroughputAsync(id, name, nodes, tls, size, context);
                context.Report.Add(measured with { Baseline = template.Baseline, Js = template.Js, Target = template.Target, RatioOf = template.RatioOf });
            }
        }

        (string Id, string Name, int Nodes, bool Tls)[] roundTrips =
        [
            ("rtt-64", "Ataraxia TCP plaintext, round trip 64 B", 2, false),
            ("rtt-tls-64", "Ataraxia TCP TLS, round trip 64 B", 2, true),
            ("rtt-hop1-64", "Ataraxia TCP plaintext, round trip 64 B via 1 router", 3, false),
        ];
        foreach ((string id, string name, int nodes, bool tls) in roundTrips)
        {
            if (context.Wants(id))
            {
                Settle();
                context.Report.Add(await RoundTripAsync(id, name, nodes, tls, context));
            }
        }
    }

    // Every row starts from a collected heap, so what earlier rows left behind is not collected inside this one.
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static Row Compare(string baseline, string? js, string? target, bool bulk = false) =>
        new() { Id = "", Name = "", Baseline = baseline, Js = js, Target = target, RatioOf = bulk ? "MB/s" : null };

    /// <summary>
    /// The number of unacknowledged sends: <see cref="RunContext.Window"/>, but at most about 1 MiB in flight, as a
    /// sender of bulk data would do (more only fills buffers and adds latency).
    /// </summary>
    public static int WindowFor(int size, RunContext context) => Math.Min(context.Window, Math.Max(16, (1024 * 1024) / size));

    /// <summary>A CBOR byte string of <paramref name="size"/> bytes, pre-encoded.</summary>
    public static byte[] Payload(int size)
    {
        byte[] bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        return CborValue.FromBytes(bytes).Encode();
    }

    /// <summary>
    /// Starts <paramref name="count"/> nodes in a chain over TCP on 127.0.0.1: node i connects to node i − 1 only, so
    /// messages from the last node to the first cross count − 2 routers. Returns once the ends see each other.
    /// </summary>
    public static async Task<Chain> StartChainAsync(int count, bool tls, int incomingCapacity = 65536)
    {
        var nodes = new List<Network>();
        var transports = new List<TcpTransport>();
        for (int i = 0; i < count; i++)
        {
            var transport = new TcpTransport(new TcpTransportOptions
            {
                BindAddresses = [IPAddress.Loopback],
                Listen = i < count - 1,
                Tls = tls ? new TcpTlsOptions() : null,
                Peers = i == 0 ? [] : [new DnsEndPoint("127.0.0.1", transports[i - 1].Port)],
            });
            var network = new Network(new NetworkOptions
            {
                Name = "bench",
                Transports = [transport],
                IncomingMessageCapacity = incomingCapacity,
                IncomingMessageFullMode = BoundedChannelFullMode.Wait,
                MaxPendingSends = 1 << 20,
            });
            await network.JoinAsync();
            nodes.Add(network);
            transports.Add(transport);
        }

        var chain = new Chain(nodes);
        await WaitUntilAsync(() => chain.Sender.TryGetNode(chain.Receiver.Id, out _) && chain.Receiver.TryGetNode(chain.Sender.Id, out _), TimeSpan.FromSeconds(30));
        return chain;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"The condition did not hold within {timeout}.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Sends from the last node of a chain to the first with <see cref="RunContext.Window"/> unacknowledged sends and
    /// counts what the receiver reads.
    /// </summary>
    private static async Task<Row> ThroughputAsync(string id, string name, int nodes, bool tls, int size, RunContext context)
    {
        await using Chain chain = await StartChainAsync(nodes, tls);
        byte[] payload = Payload(size);
        long received = 0;
        Task reader = Task.Run(async () =>
        {
            await foreach (Message message in chain.Receiver.ReadMessagesAsync())
            {
                Interlocked.Increment(ref received);
            }
        });

        using var stop = new CancellationTokenSource();
        long failures = 0;
        Network sender = chain.Sender;
        NodeId target = chain.Receiver.Id;
        int window = WindowFor(size, context);
        Task[] workers = [.. Enumerable.Range(0, window).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await sender.SendEncodedAsync(target, "bench", payload);
                }
                catch (MessageDeliveryException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }))];

        (long count, TimeSpan elapsed, double allocated, double cpu) = await Measure.CountWithAllocationsAsync(() => Interlocked.Read(ref received), context);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        double rate = count / elapsed.TotalSeconds;
        await chain.DisposeAsync();
        await reader;
        return new Row
        {
            Id = id,
            Name = name,
            MessagesPerSecond = rate,
            MegabytesPerSecond = rate * size / 1e6,
            AllocatedPerMessage = allocated,
            CpuPerMessage = cpu,
            Note = failures > 0 ? $"{failures} sends failed" : null,
        };
    }

    private static async Task<Row> RoundTripAsync(string id, string name, int nodes, bool tls, RunContext context)
    {
        await using Chain chain = await StartChainAsync(nodes, tls);
        byte[] payload = Payload(64);
        Network client = chain.Sender;
        Network server = chain.Receiver;
        Task echo = Task.Run(async () =>
        {
            await foreach (Message message in server.ReadMessagesAsync())
            {
                _ = EchoAsync(server, message);
            }
        });

        IAsyncEnumerator<Message> replies = client.ReadMessagesAsync().GetAsyncEnumerator();
        var samples = new List<double>(context.RttSamples);
        Stopwatch warmup = Stopwatch.StartNew();
        int total = 0;
        while (samples.Count < context.RttSamples)
        {
            long start = Stopwatch.GetTimestamp();
            ValueTask send = client.SendEncodedAsync(server.Id, "ping", payload);
            if (!await replies.MoveNextAsync())
            {
                throw new InvalidOperationException("The client stopped receiving.");
            }

            double micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            await send;
            if (warmup.Elapsed > context.Warmup)
            {
                samples.Add(micros);
            }

            total++;
        }

        await replies.DisposeAsync();
        await chain.DisposeAsync();
        await echo;
        bool direct = nodes == 2;
        return Measure.LatencyRow(
            id,
            name,
            samples,
            baseline: "raw-rtt",
            js: direct ? (tls ? null : "js-js-rtt") : null,
            target: direct && !tls ? "p50 ≤ 60 µs, p99 ≤ 250 µs" : null,
            met: direct && !tls ? (p50, p99) => p50 <= 60 && p99 <= 250 : null);
    }

    private static async Task EchoAsync(Network server, Message message)
    {
        try
        {
            await server.SendEncodedAsync(message.Source.Id, "pong", message.RawData);
        }
        catch (MessageDeliveryException)
        {
        }
    }

    /// <summary>A chain of joined nodes; messages go from <see cref="Sender"/> (last) to <see cref="Receiver"/> (first).</summary>
    public sealed class Chain(List<Network> nodes) : IAsyncDisposable
    {
        private int _disposed;

        public IReadOnlyList<Network> Nodes => nodes;

        public Network Receiver => nodes[0];

        public Network Sender => nodes[^1];

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            foreach (Network node in nodes.AsEnumerable().Reverse())
            {
                try
                {
                    await node.LeaveAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                }

                await node.DisposeAsync();
            }
        }
    }
}
